using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Revocation;

/// <summary>
/// Revokes the token presented, in place of OpenIddict's Revocation.RevokeToken, which answers
/// <c>unsupported_token_type</c> when its write loses on the row's concurrency token. That happens when another request
/// wrote the row since it was read: a second revocation of the same token (a sign-out sent twice), or the refresh that
/// redeemed it (a sign-out racing another tab). Both left the client with a 400 where RFC 7009 §2.2 and SPEC §2 say
/// 200, and the second left the sign-in alive, since <see cref="RevokeAuthorizationWithRefreshToken"/> runs only after
/// a revocation that succeeded. Losing that race now counts as done: the token is revoked by the other request, or
/// redeemed, and its sign-in is ended next.
/// </summary>
internal sealed class RevokeTokenEvenWhenRaced(IOpenIddictTokenManager tokens, Storage.RowChanges rows)
    : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
            .UseScopedHandler<RevokeTokenEvenWhenRaced>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        if (context.GenericTokenPrincipal?.GetTokenId() is not { Length: > 0 } id)
        {
            context.Reject(Errors.UnsupportedTokenType, "This token cannot be revoked.");
            return;
        }
        // Not the request's token: a client that hangs up after sending a revocation still wants it done.
        if (await tokens.FindByIdAsync(id, CancellationToken.None) is not { } token)
        {
            context.Reject(Errors.InvalidToken, "The token is not known."); // answered 200, as any unknown token (RFC 7009 §2.2)
            return;
        }
        await tokens.TryRevokeAsync(token, CancellationToken.None);
        // Answered once no node still serves the token's entry from memory (AccessTokenEntries): revoked at once everywhere.
        await rows.AwaitPeersAsync(CancellationToken.None);
    }
}
