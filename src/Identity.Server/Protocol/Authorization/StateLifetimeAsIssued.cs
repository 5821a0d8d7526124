using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// <c>expires_in</c> of a pushed request_uri (RFC 9126 §2.2) and of a device code (RFC 8628 §3.2) is their lifetime as
/// issued: 60 and 600. OpenIddict counts from when the response is built, a moment later, so 60 came out as 59 now and
/// then (CompleteTokenResponse does the same for access tokens).
/// </summary>
internal sealed class StateLifetimeAsIssued : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<RequirePushedOrDeviceAuthorizationRequest>()
            .UseSingletonHandler<StateLifetimeAsIssued>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 400)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        var issued = context.EndpointType == OpenIddictServerEndpointType.PushedAuthorization ? context.RequestTokenPrincipal : context.DeviceCodePrincipal;
        if (issued?.GetCreationDate() is { } createdAt && issued.GetExpirationDate() is { } expiresAt)
            context.Response.ExpiresIn = (long)Math.Round((expiresAt - createdAt).TotalSeconds);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The pushed authorization or the device authorization endpoint answers.</summary>
internal sealed class RequirePushedOrDeviceAuthorizationRequest : IOpenIddictServerHandlerFilter<BaseContext>
{
    public ValueTask<bool> IsActiveAsync(BaseContext context) => ValueTask.FromResult(
        context.EndpointType is OpenIddictServerEndpointType.PushedAuthorization or OpenIddictServerEndpointType.DeviceAuthorization);
}
