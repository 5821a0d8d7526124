using System.Security.Claims;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Identities;

/// <summary>
/// An id_token_hint must be an ID token this server issued, and a request whose hint does not validate is an error:
/// at the authorization endpoint (OIDC Core §3.1.2.2: the parameters are validated; the hint names the person the client
/// expects) and the pushed authorization endpoint, as <c>invalid_request</c> sent to the client, and at the end-session
/// endpoint (RP-Initiated Logout §2 and §4), with no redirection to the client. OpenIddict treats hints as optional and
/// drops one it cannot validate (forged, altered, from another issuer, not a JWT), then carries on as if none had been
/// sent: a login page, or a logout confirmation, for a request the client got wrong.
/// </summary>
internal sealed class RejectInvalidIdTokenHint<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RejectInvalidIdTokenHint<TContext>>()
            // Once OpenIddict has validated the hint, before it checks the hint's audience against the client; at the
            // authorization endpoints also after the redirect URI is known to be the client's, so the error can go there.
            .SetOrder(typeof(TContext) switch
            {
                var t when t == typeof(ValidateEndSessionRequestContext) => OpenIddictServerHandlers.Session.ValidateAuthentication.Descriptor.Order + 500,
                var t when t == typeof(ValidatePushedAuthorizationRequestContext) =>
                    OpenIddictServerHandlers.Authentication.ValidatePushedAuthorizedParty.Descriptor.Order - 500,
                _ => OpenIddictServerHandlers.Authentication.ValidateAuthorizedParty.Descriptor.Order - 500,
            })
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        // An expired hint still validates (OpenIddict skips its lifetime, as RP-Initiated Logout §4 allows and as the
        // hint of a session that outlived its ID token needs): only a false one is refused.
        if (!string.IsNullOrEmpty(context.Transaction.Request?.IdTokenHint) && Validated(context) is null)
            context.Reject(Errors.InvalidRequest, "The id_token_hint is not an ID token issued by this server.");
        return default;
    }

    private static ClaimsPrincipal? Validated(TContext context) => context switch
    {
        ValidateAuthorizationRequestContext authorization => authorization.IdentityTokenHintPrincipal,
        ValidatePushedAuthorizationRequestContext pushed => pushed.IdentityTokenHintPrincipal,
        ValidateEndSessionRequestContext endSession => endSession.IdentityTokenHintPrincipal,
        _ => throw new NotSupportedException(typeof(TContext).Name),
    };
}
