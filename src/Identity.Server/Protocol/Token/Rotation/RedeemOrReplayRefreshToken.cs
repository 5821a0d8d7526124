using Identity.Server.Hosting;
using Identity.Server.Protocol.Authorization;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// SPEC §2's idempotent rotation, in place of OpenIddict's redemption of refresh tokens (which lets a redeemed token
/// mint a second, live successor inside the leeway, and N concurrent uses mint N). A token still valid is redeemed
/// only when the sign-in's rows are written (<see cref="RefreshRedemption"/>): a conditional update in the same
/// statement or transaction as the new rows and the sealed successor, so that no row is locked while the tokens are
/// signed. A token already redeemed — a retry inside the leeway, which OpenIddict's ValidateTokenEntry let through — is
/// answered here with the first use's sealed response, and mints nothing.
/// </summary>
internal sealed class RedeemOrReplayRefreshToken(IOpenIddictTokenManager tokens, RefreshSuccessors successors)
    : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<RequireRefreshTokenGrant>()
            .UseScopedHandler<RedeemOrReplayRefreshToken>()
            // Replaces OpenIddictServerHandlers.RedeemTokenEntry for refresh tokens (RedeemOtherTokenEntries keeps it for the rest).
            .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        var authentication = context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!)
            ?? throw new InvalidOperationException("The refresh token was not authenticated.");
        if (authentication.RefreshTokenPrincipal?.GetTokenId() is not { } id || !Guid.TryParse(id, out var tokenId)) return;
        // The row ValidateTokenEntry read moments ago, from the request's context: no second read.
        var token = await tokens.FindByIdAsync(id, context.CancellationToken);
        if (token is not null && await tokens.HasStatusAsync(token, Statuses.Valid, context.CancellationToken))
        {
            context.Transaction.SetProperty(RefreshRedemption.Property, new RefreshRedemption(tokenId, context.Options.TimeProvider.GetUtcNow()));
            return;
        }
        await successors.ReplayAsync(context, tokenId);
    }
}

/// <summary>
/// OpenIddict's own RedeemTokenEntry, for everything but refresh tokens (codes, device codes, request tokens). An
/// authorization code it cannot redeem was redeemed by a request that read it at the same moment: the same code used
/// twice, which ends its sign-in as <see cref="RevokeAuthorizationOnReuse"/> does for a code used after another's
/// redemption (RFC 6749 §4.1.2). Before, such a race revoked nothing, and a stolen code raced against its client left
/// the winner's tokens alive, whichever side won. A pushed request_uri it cannot redeem at the authorization endpoint
/// was used by another browser request at the same moment: the client hears <c>invalid_request_uri</c> (RFC 9101 §6.2,
/// an authorization error response), not OpenIddict's <c>invalid_token</c>, which no authorization response defines.
/// </summary>
internal sealed class RedeemOtherTokenEntries(IOpenIddictTokenManager tokens, Sessions sessions, ServerMetrics metrics,
    ILogger<RedeemOtherTokenEntries> logger) : IOpenIddictServerHandler<ProcessSignInContext>
{
    private readonly OpenIddictServerHandlers.RedeemTokenEntry builtIn = new(tokens);

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .Import(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor)
            .AddFilter<RequireNoRefreshTokenGrant>()
            .UseScopedHandler<RedeemOtherTokenEntries>()
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        await builtIn.HandleAsync(context);
        if (!context.IsRejected) return;
        if (context.EndpointType == OpenIddictServerEndpointType.Authorization)
        {
            context.Reject(Errors.InvalidRequestUri, "The request_uri was already used; start again from the application.");
            return;
        }
        if (context.EndpointType != OpenIddictServerEndpointType.Token || !context.Request!.IsAuthorizationCodeGrantType()) return;
        var authentication = context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!);
        if (authentication?.AuthorizationCodePrincipal?.GetAuthorizationId() is not { } authorizationId) return;
        await sessions.EndAsync(authorizationId, CancellationToken.None);
        logger.RedeemedTokenReused(context.ClientId, authorizationId);
        metrics.AuthorizationRevoked("code_reuse");
    }
}

internal sealed class RequireRefreshTokenGrant : IOpenIddictServerHandlerFilter<OpenIddictServerEvents.BaseContext>
{
    public ValueTask<bool> IsActiveAsync(OpenIddictServerEvents.BaseContext context) =>
        ValueTask.FromResult(context.Transaction.Request?.IsRefreshTokenGrantType() == true);
}

internal sealed class RequireNoRefreshTokenGrant : IOpenIddictServerHandlerFilter<OpenIddictServerEvents.BaseContext>
{
    public ValueTask<bool> IsActiveAsync(OpenIddictServerEvents.BaseContext context) =>
        ValueTask.FromResult(context.Transaction.Request?.IsRefreshTokenGrantType() != true);
}
