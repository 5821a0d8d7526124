using System.Security.Cryptography;
using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §6 with rotation on every use (RFC 9700 §4.14.2). A use redeems the token with a conditional update, so of
/// N concurrent uses exactly one wins; the others, and any retry within the reuse leeway, get the winner's successor
/// again (SPEC §2). A redeemed token presented after the leeway is reuse: the whole authorization is revoked.
/// </summary>
internal sealed class RefreshTokenGrantHandler(ServerDbContext db, TokenIssuer issuer, TokenFamilies families, SignInPolicy signIn,
    IOptions<TokenOptions> options, TimeProvider time, ILogger<RefreshTokenGrantHandler> logger, Hosting.ServerMetrics metrics) : ITokenGrantHandler
{
    public string GrantType => GrantTypes.RefreshToken;

    public async Task<GrantResult> HandleAsync(TokenRequest request, Client client, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.RefreshToken))
            return OAuthError.InvalidRequest("The refresh_token parameter is required.");
        if (request.RefreshToken.Length > 512) return OAuthError.InvalidGrant("refresh token too long to be ours");
        var now = time.GetUtcNow();
        var hash = OpaqueTokens.Hash(request.RefreshToken);
        var found = await families.FindByHashAsync(hash, TokenType.RefreshToken, ct);
        if (found is not var (token, family, owner) || token.ClientId != client.ClientId)
            return OAuthError.InvalidGrant("unknown refresh token, or issued to another client");
        if (token.Status == TokenStatus.Revoked || family.Status == AuthorizationStatus.Revoked)
            return OAuthError.InvalidGrant("revoked refresh token");
        if (token.ExpiresAt <= now || family.ExpiresAt <= now)
            return OAuthError.InvalidGrant("expired refresh token");

        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        var scopes = token.Scopes;
        if (request.Scope is not null)
        {
            scopes = request.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
            if (scopes.Length == 0 || scopes.Any(s => !token.Scopes.Contains(s)))
                return OAuthError.InvalidScope("scope wider than the refresh token's");
        }
        var user = signIn.CanSignIn(owner);
        if (user is null) return OAuthError.InvalidGrant("user deleted, locked out or unconfirmed");
        var issue = new IssueRequest(client, token.SubjectId, scopes, now) { Authorization = family, User = user, GrantedScopes = token.Scopes };

        if (token.Status == TokenStatus.Valid && await TryRedeemAsync(token, issue, request.RefreshToken, ct) is { } fresh)
            return fresh;
        return await AnswerRedeemedAsync(token.Id, family, issue, request.RefreshToken, ct);
    }

    private async Task<TokenResponse?> TryRedeemAsync(Issuance.Token token, IssueRequest issue, string presented, CancellationToken ct)
    {
        var seed = RandomNumberGenerator.GetBytes(32);
        try
        {
            // The redemption commits with the successors' rows, after the tokens are signed; of concurrent uses all but
            // the first redeem nothing and fail as a conflict.
            var redemption = new Redemption(token.Id, issue.Now, seed);
            return await issuer.IssueAsync(issue with { Successor = OpaqueTokens.Successor(seed, presented), Redeems = redemption }, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return null; // lost the race: answered below from what the winner committed
        }
    }

    private async Task<GrantResult> AnswerRedeemedAsync(Guid tokenId, Authorization family, IssueRequest issue, string presented, CancellationToken ct)
    {
        var redeemed = await db.Tokens.AsNoTracking().Where(t => t.Id == tokenId)
            .Select(t => new { t.Status, t.RedeemedAt, t.SuccessorSeed }).SingleAsync(ct);
        if (redeemed.Status == TokenStatus.Revoked) return OAuthError.InvalidGrant("revoked refresh token");
        if (redeemed is { RedeemedAt: { } at, SuccessorSeed: { } seed } && issue.Now - at <= options.Value.RefreshTokenReuseLeeway)
        {
            var successor = OpaqueTokens.Successor(seed, presented);
            var successorHash = OpaqueTokens.Hash(successor.RefreshToken);
            var alive = await db.Tokens.AsNoTracking().AnyAsync(t => t.Hash == successorHash && t.Status != TokenStatus.Revoked, ct)
                || !issue.GrantedScopes!.Contains(Scopes.StandardScopes.OfflineAccess);
            if (!alive) return OAuthError.InvalidGrant("successor revoked");
            // The same instant and the same derived values reproduce the first answer's tokens exactly.
            return await issuer.IssueAsync(issue with { Now = at, Successor = successor, Persist = false }, ct);
        }
        await families.RevokeAsync(family.Id, issue.Now, ct);
        logger.RefreshTokenReused(issue.Client.ClientId, family.Id);
        metrics.RefreshTokenReused();
        return OAuthError.InvalidGrant("refresh token reused after the leeway; authorization revoked");
    }
}
