using System.Text.Json;
using System.Text.Json.Serialization;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Issuance;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Authorize;

/// <summary>What an authorization code is bound to (RFC 6749 §4.1.3, RFC 7636 §4.4), stored as the code row's payload.</summary>
internal sealed record CodePayload(
    [property: JsonPropertyName("redirect_uri")] string RedirectUri,
    [property: JsonPropertyName("redirect_uri_given")] bool RedirectUriGiven,
    [property: JsonPropertyName("code_challenge")] string? CodeChallenge,
    [property: JsonPropertyName("nonce")] string? Nonce)
{
    public string Serialize() => JsonSerializer.Serialize(this);
    public static CodePayload? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<CodePayload>(json);
}

/// <summary>
/// Issues a code: opaque, 256 bits, stored hashed, 5 minutes, single use. It opens a new authorization (token family)
/// so that everything later issued from it can be revoked together if the code is ever replayed.
/// </summary>
internal sealed class AuthorizationCodes(ServerDbContext db, IOptions<TokenOptions> options, TimeProvider time)
{
    public async Task<string> IssueAsync(AuthorizeRequest request, string subjectId, DateTimeOffset authenticatedAt, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var family = new Authorization
        {
            Id = Guid.CreateVersion7(now),
            ClientId = request.Client.ClientId,
            SubjectId = subjectId,
            Scopes = request.Scopes,
            Kind = AuthorizationKind.AdHoc,
            Status = AuthorizationStatus.Valid,
            CreatedAt = now,
            AuthenticatedAt = authenticatedAt,
            ExpiresAt = now + options.Value.RefreshTokenAbsoluteLifetime,
        };
        var code = OpaqueTokens.New();
        db.Authorizations.Add(family);
        db.Tokens.Add(new Issuance.Token
        {
            Id = Guid.CreateVersion7(now),
            AuthorizationId = family.Id,
            ClientId = request.Client.ClientId,
            SubjectId = subjectId,
            Type = TokenType.AuthorizationCode,
            Status = TokenStatus.Valid,
            Hash = OpaqueTokens.Hash(code),
            Scopes = request.Scopes,
            CreatedAt = now,
            ExpiresAt = now + options.Value.AuthorizationCodeLifetime,
            Payload = new CodePayload(request.RedirectUri, request.RedirectUriGiven, request.CodeChallenge, request.Nonce).Serialize(),
        });
        await db.SaveChangesAsync(ct);
        return code;
    }
}
