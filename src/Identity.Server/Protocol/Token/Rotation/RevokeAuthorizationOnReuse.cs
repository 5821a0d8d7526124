using Identity.Server.Hosting;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// A redeemed refresh token or code presented again, past the reuse leeway, ends the whole sign-in (SPEC §2, RFC 9700
/// §4.14.2, RFC 6749 §4.1.2). OpenIddict's ValidateTokenEntry, after the expiry check, revokes every token of the
/// authorization and answers invalid_grant; this revokes the authorization itself first, expired token or not, so
/// that a successor minted by a rotation still in flight is refused too (ValidateAuthorizationEntry). A redeemed refresh
/// token is never active at introspection, even inside the leeway, which is only for the token endpoint's retries.
/// </summary>
internal sealed class RevokeAuthorizationOnReuse(IOpenIddictTokenManager tokens, IOpenIddictAuthorizationManager authorizations,
    ServerMetrics metrics, Storage.RowChanges rows, ILogger<RevokeAuthorizationOnReuse> logger) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenIdResolved>()
            .UseScopedHandler<RevokeAuthorizationOnReuse>()
            // Before the expiry check: a redeemed code or refresh token replayed after it expired is still a second use,
            // and the tokens it issued live on (OpenIddict answers "no longer valid" there and revokes nothing).
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateExpirationDate.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        var isRefreshToken = context.Principal!.HasTokenType(TokenTypeIdentifiers.RefreshToken);
        if (!isRefreshToken && !context.Principal!.HasTokenType(TokenTypeIdentifiers.Private.AuthorizationCode)) return;
        var token = await tokens.FindByIdAsync(context.TokenId!, context.CancellationToken);
        if (token is null || !await tokens.HasStatusAsync(token, Statuses.Redeemed, context.CancellationToken)) return;

        if (context.EndpointType == OpenIddictServerEndpointType.Introspection)
        {
            context.Reject(Errors.InvalidToken, "The token was redeemed.");
            return;
        }
        if (isRefreshToken && await IsInsideLeewayAsync(context, token)) return;
        if (context.AuthorizationId is { } authorizationId
            && await authorizations.FindByIdAsync(authorizationId, context.CancellationToken) is { } authorization)
        {
            await authorizations.TryRevokeAsync(authorization, context.CancellationToken);
            await rows.AwaitPeersAsync(context.CancellationToken);
            logger.RedeemedTokenReused(context.Principal!.GetPresenters().FirstOrDefault(), authorizationId);
            if (isRefreshToken) metrics.RefreshTokenReused(); else metrics.AuthorizationRevoked("code_reuse");
        }
    }

    private async ValueTask<bool> IsInsideLeewayAsync(ValidateTokenContext context, object token) =>
        context.Options.RefreshTokenReuseLeeway is { } leeway
        && (await tokens.GetRedemptionDateAsync(token, context.CancellationToken) is not { } redeemedAt
            || context.Options.TimeProvider.GetUtcNow() < redeemedAt + leeway);
}
