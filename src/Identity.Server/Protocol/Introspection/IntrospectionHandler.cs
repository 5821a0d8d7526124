using Identity.Server.Accounts;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;

namespace Identity.Server.Protocol.Introspection;

/// <summary>
/// Access tokens (JWT or reference) are described to any client allowed to introspect — that is what resource servers
/// are for. Refresh tokens only to the client they were issued to. Anything invalid, expired, revoked or foreign is
/// exactly {"active":false} (§2.2), so the answer says nothing about why.
/// </summary>
internal sealed class IntrospectionHandler(TokenRecords records, AccessTokenValidator validator, IssuerUri issuer, TimeProvider time)
{
    private static readonly Dictionary<string, object> Inactive = new() { ["active"] = false };

    public async Task<IReadOnlyDictionary<string, object>> IntrospectAsync(string value, Client client, CancellationToken ct)
    {
        if (value.Length > 8192) return Inactive;
        ValidatedAccessToken? token;
        if (PresentedTokens.LooksLikeJwt(value))
            (token, _) = await validator.ValidateAsync(value, ct);
        else
        {
            // One read by hash answers for every kind of opaque token.
            var record = await records.FindByHashAsync(OpaqueTokens.Hash(value), ct);
            if (record?.Token.Type == TokenType.RefreshToken)
                return record.Token.ClientId == client.ClientId ? RefreshToken(record) : Inactive;
            (token, _) = validator.ValidateReference(record, time.GetUtcNow());
        }
        if (token is null) return Inactive;
        var response = Describe(token.SubjectId, token.ClientId, token.Scopes, token.IssuedAt, token.ExpiresAt, token.User);
        response["jti"] = token.Id.ToString("N");
        response["aud"] = token.Audiences.Count == 1 ? token.Audiences[0] : token.Audiences;
        response["token_type"] = "Bearer";
        return response;
    }

    private IReadOnlyDictionary<string, object> RefreshToken(TokenRecord record)
    {
        var now = time.GetUtcNow();
        if (record is not { Token: var token, Family: { } family }
            || token.Status != TokenStatus.Valid || family.Status != AuthorizationStatus.Valid || token.ExpiresAt <= now || family.ExpiresAt <= now)
            return Inactive;
        var response = Describe(token.SubjectId, token.ClientId, token.Scopes, token.CreatedAt, token.ExpiresAt, record.User);
        response["token_type"] = "refresh_token";
        return response;
    }

    private Dictionary<string, object> Describe(string subject, string clientId, string[] scopes, DateTimeOffset issuedAt, DateTimeOffset expiresAt,
        ApplicationUser? user)
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
        if (user?.UserName is { } userName) response["username"] = userName;
        return response;
    }
}
