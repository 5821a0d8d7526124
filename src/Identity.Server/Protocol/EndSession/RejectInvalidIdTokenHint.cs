using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.EndSession;

/// <summary>
/// OIDC RP-Initiated Logout §2 and §4: an id_token_hint must be one this server issued, and a request whose hint does
/// not validate is an error, with no redirection to the client. OpenIddict treats hints as optional and drops one it
/// cannot validate (forged, altered, from another issuer), then carries on as if none had been sent.
/// </summary>
internal sealed class RejectInvalidIdTokenHint : IOpenIddictServerHandler<ValidateEndSessionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateEndSessionRequestContext>()
            .UseSingletonHandler<RejectInvalidIdTokenHint>()
            // Once OpenIddict has validated the hint, before it checks the hint's audience against the client.
            .SetOrder(OpenIddictServerHandlers.Session.ValidateAuthentication.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateEndSessionRequestContext context)
    {
        // An expired hint still validates (OpenIddict skips its lifetime, as §4 allows): only a false one is refused.
        if (!string.IsNullOrEmpty(context.Request.IdTokenHint) && context.IdentityTokenHintPrincipal is null)
            context.Reject(Errors.InvalidRequest, "The id_token_hint is not an ID token issued by this server.");
        return default;
    }
}
