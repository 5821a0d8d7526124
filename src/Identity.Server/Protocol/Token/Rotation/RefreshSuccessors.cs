using System.Text.Json;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>Seals the successor of a redeemed refresh token, and answers a later use of that token with it.</summary>
internal sealed class RefreshSuccessors(ServerDbContext db, IOptions<TokenOptions> options, IOpenIddictServerDispatcher dispatcher,
    IOpenIddictTokenManager tokens)
{
    /// <summary>The row to write with the redemption: the complete response, sealed for the presented token's holder.</summary>
    public RefreshTokenSuccessor Seal(Guid tokenId, string refreshToken, OpenIddictResponse response, DateTimeOffset now) => new()
    {
        TokenId = tokenId,
        Sealed = SuccessorSeal.Seal(refreshToken, tokenId, JsonSerializer.SerializeToUtf8Bytes(response)),
        CreatedAt = now,
        ExpiresAt = now + options.Value.RefreshTokenReuseLeeway,
    };

    /// <summary>
    /// Ends the sign-in with the response the token's first use got, or with invalid_grant when there is none to give
    /// (the leeway is over, or the token was not redeemed by a refresh).
    /// </summary>
    public async ValueTask ReplayAsync(ProcessSignInContext context, Guid tokenId)
    {
        var now = context.Options.TimeProvider.GetUtcNow();
        if (await ReadAsync(tokenId, context.Request.RefreshToken!, now, context.CancellationToken) is not { } response
            || await WasRevokedAsync(response.AccessToken, context.CancellationToken))
        {
            context.Reject(Errors.InvalidGrant, "The specified refresh token has already been redeemed.");
            return;
        }
        context.Transaction.Response = response;
        var notification = new ApplyTokenResponseContext(context.Transaction);
        await dispatcher.DispatchAsync(notification);
        if (!notification.IsRequestHandled) throw new InvalidOperationException("The replayed token response was not written.");
        context.HandleRequest();
    }

    /// <summary>
    /// Whether the successor's access token was revoked since (its refresh token's revocation ends the authorization, which
    /// OpenIddict checks before this): a retry must not be handed a token the server already calls dead. A JWT names its row
    /// (<c>oi_tkn_id</c>); a reference token is its row's reference.
    /// </summary>
    private async Task<bool> WasRevokedAsync(string? accessToken, CancellationToken ct)
    {
        if (accessToken is null) return false;
        var row = accessToken.Count(c => c == '.') == 2
            ? new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(accessToken).TryGetPayloadValue<string>(Claims.Private.TokenId, out var id)
                ? await tokens.FindByIdAsync(id, ct)
                : null
            : await tokens.FindByReferenceIdAsync(accessToken, ct);
        return row is null || !await tokens.HasStatusAsync(row, Statuses.Valid, ct);
    }

    /// <summary>The response the first use got, with <c>expires_in</c> counted down; null if there is none to give.</summary>
    private async Task<OpenIddictResponse?> ReadAsync(Guid tokenId, string refreshToken, DateTimeOffset now, CancellationToken ct)
    {
        var row = await db.RefreshTokenSuccessors.AsNoTracking().SingleOrDefaultAsync(s => s.TokenId == tokenId, ct);
        if (row is null || SuccessorSeal.Open(refreshToken, tokenId, row.Sealed) is not { } json) return null;
        var response = JsonSerializer.Deserialize<OpenIddictResponse>(json)!;
        if (response.ExpiresIn is { } expiresIn)
            response.ExpiresIn = Math.Max(0, expiresIn - (long)(now - row.CreatedAt).TotalSeconds);
        return response;
    }
}
