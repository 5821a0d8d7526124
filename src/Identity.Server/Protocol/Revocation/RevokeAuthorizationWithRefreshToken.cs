using Identity.Server.Protocol.Authorization;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Revocation;

/// <summary>
/// Revoking a refresh token ends the sign-in it belongs to: its authorization and every token issued under it (SPEC
/// §2; RFC 7009 §2.1). OpenIddict's Revocation.RevokeToken revokes only the token presented.
/// </summary>
internal sealed class RevokeAuthorizationWithRefreshToken(Sessions sessions)
    : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseScopedHandler<RevokeAuthorizationWithRefreshToken>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        var token = context.GenericTokenPrincipal;
        if (token is null || !token.HasTokenType(TokenTypeIdentifiers.RefreshToken) || token.GetAuthorizationId() is not { } id) return;
        await sessions.EndAsync(id, context.CancellationToken);
    }
}
