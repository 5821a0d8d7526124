using Identity.Server.Accounts;
using Identity.Server.Protocol.Scopes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Issuance;

public enum AccessTokenProblem { None, Malformed, Expired, Revoked, Invalid }

/// <summary>
/// An access token that passed every check, with what the server knows about it: its row and, for a token issued to a
/// person, that person as read in the same statement (null for client_credentials, or when the user was deleted).
/// </summary>
internal sealed record ValidatedAccessToken(Guid Id, string SubjectId, string ClientId, string[] Scopes, IReadOnlyList<string> Audiences,
    DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, Guid? AuthorizationId, bool IsJwt, ApplicationUser? User)
{
    public bool HasScope(string scope) => Scopes.Contains(scope);
}

/// <summary>
/// Validates an access token — a JWT by signature, issuer, type and lifetime, a reference token by its hash — and then
/// always by its row, so that a revoked token is refused on the very next request on any node. The row lookup is one
/// indexed read that brings the user along: correct without any cross-node cache invalidation
/// (docs/resource-servers.md).
/// </summary>
internal sealed class AccessTokenValidator(TokenRecords records, SigningKeyStore keys, IssuerUri issuer, ScopeCatalog scopes, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new();

    public async Task<(ValidatedAccessToken? Token, AccessTokenProblem Problem)> ValidateAsync(string? value, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 8192) return (null, AccessTokenProblem.Malformed);
        var now = time.GetUtcNow();
        return PresentedTokens.LooksLikeJwt(value)
            ? await ValidateJwtAsync(value, now, ct)
            : ValidateReference(await records.FindByHashAsync(OpaqueTokens.Hash(value), ct), now);
    }

    /// <summary>A reference access token's row, already read by its hash (introspection reads it once for every kind).</summary>
    public (ValidatedAccessToken?, AccessTokenProblem) ValidateReference(TokenRecord? record, DateTimeOffset now)
    {
        if (record?.Token is not { Type: TokenType.AccessToken } row) return (null, AccessTokenProblem.Invalid);
        if (row.ExpiresAt <= now) return (null, AccessTokenProblem.Expired);
        if (row.Status != TokenStatus.Valid) return (null, AccessTokenProblem.Revoked);
        return (new ValidatedAccessToken(row.Id, row.SubjectId, row.ClientId, row.Scopes, scopes.AudiencesOf(row.Scopes, issuer.Value), row.CreatedAt,
            row.ExpiresAt, row.AuthorizationId, false, record.User), AccessTokenProblem.None);
    }

    private async Task<(ValidatedAccessToken?, AccessTokenProblem)> ValidateJwtAsync(string value, DateTimeOffset now, CancellationToken ct)
    {
        var parameters = (await keys.GetAsync(ct)).VerificationParameters(issuer.Value);
        parameters.ValidTypes = ["at+jwt"]; // lifetime is checked below on the server's clock
        var result = await Handler.ValidateTokenAsync(value, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
            return (null, result.Exception is SecurityTokenMalformedException ? AccessTokenProblem.Malformed : AccessTokenProblem.Invalid);
        if (!Guid.TryParseExact(jwt.Id, "N", out var id)) return (null, AccessTokenProblem.Invalid);
        var expires = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        if (expires <= now) return (null, AccessTokenProblem.Expired);
        if (new DateTimeOffset(jwt.ValidFrom, TimeSpan.Zero) > now + TimeSpan.FromSeconds(30)) return (null, AccessTokenProblem.Invalid);

        var record = await records.FindByIdAsync(id, ct);
        if (record?.Token is not { Type: TokenType.AccessToken } row) return (null, AccessTokenProblem.Invalid);
        if (row.Status != TokenStatus.Valid) return (null, AccessTokenProblem.Revoked);
        return (new ValidatedAccessToken(id, row.SubjectId, row.ClientId, row.Scopes, jwt.Audiences.ToList(), row.CreatedAt, expires, row.AuthorizationId, true,
            record.User), AccessTokenProblem.None);
    }
}
