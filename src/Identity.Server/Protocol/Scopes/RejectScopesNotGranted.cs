using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Scopes;

/// <summary>
/// RFC 6749 §6: a refresh may ask for a narrower scope, never a wider one; wider is <c>invalid_scope</c> (§5.2:
/// "exceeds the scope granted by the resource owner"). In place of OpenIddict's Exchange.ValidateGrantedScopes, which
/// answers invalid_grant.
/// </summary>
internal sealed class RejectScopesNotGranted : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<RejectScopesNotGranted>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateGrantedScopes.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (string.IsNullOrEmpty(context.Request.Scope) || !context.Request.IsRefreshTokenGrantType()) return ValueTask.CompletedTask;
        var granted = context.RefreshTokenPrincipal!.GetScopes().ToHashSet(StringComparer.Ordinal);
        if (!granted.IsSupersetOf(context.Request.GetScopes()))
            context.Reject(Errors.InvalidScope, "The requested scope is wider than the refresh token's.");
        return ValueTask.CompletedTask;
    }
}
