using Identity.Server.Protocol.Discovery;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// With <c>Identity:Issuer</c> set, the device authorization response's <c>verification_uri</c> and
/// <c>verification_uri_complete</c> (RFC 8628 §3.2) are under it, as discovery's endpoints are. OpenIddict resolves them
/// against the request's origin: a forged Host was echoed to the person as the page to enter their code on, and behind
/// a proxy that does not pass the Host on, a node's internal address was.
/// </summary>
internal sealed class AdvertiseVerificationUnderTheIssuer(IOptions<ProtocolOptions> options) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDeviceAuthorizationRequest>()
            .UseSingletonHandler<AdvertiseVerificationUnderTheIssuer>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 600)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (options.Value.Issuer is not { } issuer) return ValueTask.CompletedTask;
        if (Uri.TryCreate(context.Response.VerificationUri, UriKind.RelativeOrAbsolute, out var plain))
            context.Response.VerificationUri = AdvertiseEndpointsUnderTheIssuer.Under(issuer, plain)!.AbsoluteUri;
        if (Uri.TryCreate(context.Response.VerificationUriComplete, UriKind.RelativeOrAbsolute, out var complete))
            context.Response.VerificationUriComplete = AdvertiseEndpointsUnderTheIssuer.Under(issuer, complete)!.AbsoluteUri;
        return ValueTask.CompletedTask;
    }
}
