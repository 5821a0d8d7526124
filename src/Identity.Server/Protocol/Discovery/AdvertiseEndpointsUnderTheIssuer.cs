using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Discovery;

/// <summary>
/// With <c>Identity:Issuer</c> set, discovery names every endpoint under it. OpenIddict resolves them against the
/// request's own origin — its Host header, or a trusted proxy's X-Forwarded-Host — while the issuer stays as configured:
/// one request with a forged Host, kept by a shared cache for the document's five minutes, sent clients' secrets, codes
/// and passwords to another host, and resource servers to its keys (OAuth security BCP audit; RFC 9700 §4.13). A proxy
/// that did not pass the Host on made the document advertise the internal address.
/// </summary>
internal sealed class AdvertiseEndpointsUnderTheIssuer(IOptions<ProtocolOptions> options) : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AdvertiseEndpointsUnderTheIssuer>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachEndpoints.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        if (options.Value.Issuer is not { } issuer) return ValueTask.CompletedTask;
        context.AuthorizationEndpoint = Under(issuer, context.AuthorizationEndpoint);
        context.JsonWebKeySetEndpoint = Under(issuer, context.JsonWebKeySetEndpoint);
        context.DeviceAuthorizationEndpoint = Under(issuer, context.DeviceAuthorizationEndpoint);
        context.EndSessionEndpoint = Under(issuer, context.EndSessionEndpoint);
        context.IntrospectionEndpoint = Under(issuer, context.IntrospectionEndpoint);
        context.PushedAuthorizationEndpoint = Under(issuer, context.PushedAuthorizationEndpoint);
        context.RevocationEndpoint = Under(issuer, context.RevocationEndpoint);
        context.TokenEndpoint = Under(issuer, context.TokenEndpoint);
        context.UserInfoEndpoint = Under(issuer, context.UserInfoEndpoint);
        return ValueTask.CompletedTask;
    }

    /// <summary>The endpoint's path on the issuer's origin (the issuer has no path of its own: ProtocolRegistration).</summary>
    internal static Uri? Under(Uri issuer, Uri? endpoint) => endpoint is null ? null : new Uri(issuer, endpoint.IsAbsoluteUri ? endpoint.PathAndQuery : endpoint.OriginalString);
}
