using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Introspection;

/// <summary>
/// Access tokens (JWT or reference) are described to any client allowed to introspect — that is what resource servers
/// are for. Refresh tokens only to the client they were issued to. Anything invalid, expired, revoked or foreign is
/// exactly {"active":false} (§2.2), so the answer says nothing about why.
/// </summary>
internal sealed class IntrospectionHandler(ServerDbContext db, AccessTokenValidator validator, TokenFamilies families, IssuerUri issuer, TimeProvider time)
{
    private static readonly Dictionary<string, object> Inactive = new() { ["active"] = false };

    public async Task<IReadOnlyDictionary<string, object>> IntrospectAsync(string value, Client client, CancellationToken ct)
    {
        if (value.Length > 8192) return Inactive;
        if (!PresentedTokens.LooksLikeJwt(value))
        {
            var hash = OpaqueTokens.Hash(value);
            var row = await db.Tokens.AsNoTracking().Where(t => t.Hash == hash).Select(t => new { t.Type, t.ClientId }).SingleOrDefaultAsync(ct);
            if (row?.Type == TokenType.RefreshToken)
                return row.ClientId == client.ClientId ? await RefreshTokenAsync(hash, ct) : Inactive;
        }
        var (token, _) = await validator.ValidateAsync(value, ct);
        if (token is null) return Inactive;
        var response = await DescribeAsync(token.SubjectId, token.ClientId, token.Scopes, token.IssuedAt, token.ExpiresAt, ct);
        response["jti"] = token.Id.ToString("N");
        response["aud"] = token.Audiences.Count == 1 ? token.Audiences[0] : token.Audiences;
        response["token_type"] = "Bearer";
        return response;
    }

    private async Task<IReadOnlyDictionary<string, object>> RefreshTokenAsync(byte[] hash, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await families.FindByHashAsync(hash, TokenType.RefreshToken, ct) is not var (token, family)
            || token.Status != TokenStatus.Valid || family.Status != AuthorizationStatus.Valid || token.ExpiresAt <= now || family.ExpiresAt <= now)
            return Inactive;
        var response = await DescribeAsync(token.SubjectId, token.ClientId, token.Scopes, token.CreatedAt, token.ExpiresAt, ct);
        response["token_type"] = "refresh_token";
        return response;
    }

    private async Task<Dictionary<string, object>> DescribeAsync(string subject, string clientId, string[] scopes,
        DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var response = new Dictionary<string, object>
        {
            ["active"] = true,
            ["scope"] = string.Join(' ', scopes),
            ["client_id"] = clientId,
            ["sub"] = subject,
            ["iss"] = issuer.Value,
            ["exp"] = expiresAt.ToUnixTimeSeconds(),
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["nbf"] = issuedAt.ToUnixTimeSeconds(),
        };
        if (subject != clientId && await db.Users.AsNoTracking().Where(u => u.Id == subject).Select(u => u.UserName).SingleOrDefaultAsync(ct) is { } userName)
            response["username"] = userName;
        return response;
    }
}
