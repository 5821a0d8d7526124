using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Authorize;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6). A code works once: a second use is refused and revokes every token the
/// first use issued (§4.1.2: "SHOULD revoke ... all tokens previously issued based on that authorization code").
/// </summary>
internal sealed class AuthorizationCodeGrantHandler(ServerDbContext db, TokenIssuer issuer, TokenFamilies families, SignInPolicy signIn,
    TimeProvider time, ILogger<AuthorizationCodeGrantHandler> logger, Hosting.ServerMetrics metrics) : ITokenGrantHandler
{
    public string GrantType => GrantTypes.AuthorizationCode;

    public async Task<GrantResult> HandleAsync(TokenRequest request, Client client, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.Code)) return OAuthError.InvalidRequest("The code parameter is required.");
        if (request.Code.Length > 512) return OAuthError.InvalidGrant("code too long to be ours");
        var now = time.GetUtcNow();
        var hash = OpaqueTokens.Hash(request.Code);
        if (await families.FindByHashAsync(hash, TokenType.AuthorizationCode, ct) is not var (code, family, owner) || code.ClientId != client.ClientId)
            return OAuthError.InvalidGrant("unknown code, or another client's");
        var payload = CodePayload.Parse(code.Payload)!;

        // §4.1.3: the redirect_uri must be the one the code was sent to, and must be repeated if it was given.
        if (payload.RedirectUriGiven ? request.RedirectUri != payload.RedirectUri : request.RedirectUri is not null && request.RedirectUri != payload.RedirectUri)
            return OAuthError.InvalidGrant("redirect_uri differs from the authorization request");
        if (payload.CodeChallenge is { } challenge)
        {
            if (request.CodeVerifier is null) return OAuthError.InvalidGrant("code_verifier missing");
            if (!Pkce.IsWellFormed(request.CodeVerifier) || !Pkce.Verifies(request.CodeVerifier, challenge))
                return OAuthError.InvalidGrant("code_verifier does not match the code_challenge");
        }
        else if (request.CodeVerifier is not null)
            return OAuthError.InvalidGrant("code_verifier sent for a code issued without a code_challenge");

        if (code.Status != TokenStatus.Valid || family.Status != AuthorizationStatus.Valid)
            return await ReusedAsync(family.Id, client, now, ct);
        if (code.ExpiresAt <= now) return OAuthError.InvalidGrant("expired code");

        var user = signIn.CanSignIn(owner);
        if (user is null) return OAuthError.InvalidGrant("user deleted, locked out or unconfirmed");
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var redeemed = await db.Tokens.Where(t => t.Id == code.Id && t.Status == TokenStatus.Valid)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, TokenStatus.Redeemed).SetProperty(t => t.RedeemedAt, now), ct);
        if (redeemed == 0)
        {
            await transaction.RollbackAsync(ct);
            return await ReusedAsync(family.Id, client, now, ct);
        }
        var response = await issuer.IssueAsync(new Issuance.IssueRequest(client, user.Id, code.Scopes, now)
        {
            Authorization = family, User = user, Nonce = payload.Nonce,
        }, ct);
        await transaction.CommitAsync(ct);
        return response;
    }

    private async Task<GrantResult> ReusedAsync(Guid familyId, Client client, DateTimeOffset now, CancellationToken ct)
    {
        await families.RevokeAsync(familyId, now, ct);
        logger.RefreshTokenReused(client.ClientId, familyId);
        metrics.AuthorizationRevoked("code_reuse");
        return OAuthError.InvalidGrant("authorization code used twice; its tokens are revoked");
    }
}
