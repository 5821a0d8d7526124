using System.Security.Cryptography;
using System.Text;
using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Token;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Issuance;

/// <summary>What to issue: for whom, to which client, with which scopes, at which instant.</summary>
internal sealed record IssueRequest(Client Client, string SubjectId, string[] Scopes, DateTimeOffset Now)
{
    /// <summary>The token family (user grants); absent for client_credentials.</summary>
    public Authorization? Authorization { get; init; }
    public ApplicationUser? User { get; init; }
    public string? Nonce { get; init; }
    /// <summary>Set for a refresh: the successor's values, derived so that a retry reproduces them.</summary>
    public SuccessorValues? Successor { get; init; }
    /// <summary>
    /// What the authorization granted, when <see cref="Scopes"/> narrows it for this access token: a new refresh token
    /// keeps the original scope (RFC 6749 §6).
    /// </summary>
    public string[]? GrantedScopes { get; init; }
    /// <summary>Set for a refresh: the token whose redemption commits with the new rows, or not at all.</summary>
    public Redemption? Redeems { get; init; }
    /// <summary>False when re-answering a retry inside the reuse leeway: the rows exist already.</summary>
    public bool Persist { get; init; } = true;
}

/// <summary>
/// Issues access tokens (RFC 9068 JWTs or opaque reference tokens), refresh tokens and id_tokens, and records a row
/// for each, which is what makes revocation and introspection truthful.
/// </summary>
internal sealed class TokenIssuer(ServerDbContext db, TokenRowWriter writer, SigningKeyStore keys, ScopeCatalog scopes, IssuerUri issuer, IOptions<TokenOptions> options)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<TokenResponse> IssueAsync(IssueRequest request, CancellationToken ct)
    {
        var (client, now) = (request.Client, request.Now);
        var keySet = await keys.GetAsync(ct);
        var lifetime = client.AccessTokenLifetime ?? options.Value.AccessTokenLifetime;
        var accessTokenId = request.Successor?.AccessTokenId ?? Guid.CreateVersion7(now);
        var scope = string.Join(' ', request.Scopes);

        string accessToken;
        byte[]? accessTokenHash = null;
        if (client.AccessTokenFormat == AccessTokenFormat.Reference)
        {
            accessToken = request.Successor?.ReferenceAccessToken ?? OpaqueTokens.New();
            accessTokenHash = OpaqueTokens.Hash(accessToken);
        }
        else
        {
            accessToken = Handler.CreateToken(AccessTokenDescriptor(request, accessTokenId, scope, lifetime, keySet.Signing));
        }

        string? refreshToken = null;
        DateTimeOffset refreshExpires = default;
        var granted = request.GrantedScopes ?? request.Scopes;
        if (request.Authorization is { } family && granted.Contains(StandardScopes.OfflineAccess) && client.AllowsGrant(GrantTypes.RefreshToken))
        {
            refreshToken = request.Successor?.RefreshToken ?? OpaqueTokens.New();
            var sliding = now + (client.RefreshTokenLifetime ?? options.Value.RefreshTokenLifetime);
            refreshExpires = family.ExpiresAt is { } absolute && absolute < sliding ? absolute : sliding;
        }

        string? idToken = null;
        if (request.User is { } user && request.Scopes.Contains(StandardScopes.OpenId))
            idToken = Handler.CreateToken(IdTokenDescriptor(request, user, accessToken, keySet.Signing));

        if (request.Persist)
        {
            List<Token> rows = [Row(request, accessTokenId, TokenType.AccessToken, accessTokenHash, now + lifetime, request.Scopes)];
            if (refreshToken is not null)
                rows.Add(Row(request, Guid.CreateVersion7(now), TokenType.RefreshToken, OpaqueTokens.Hash(refreshToken), refreshExpires, granted));
            // A client's token for itself, and a refresh, need nothing else of the request committed with them: they join
            // a group commit (a refresh's rows only if its redemption commits). A new authorization's first tokens commit
            // with it, in the request's own context.
            if (request.Redeems is { } redemption) await writer.RedeemAsync(redemption, rows, ct);
            else if (request.Authorization is null) await writer.WriteAsync(rows.Single(), ct);
            else
            {
                db.Tokens.AddRange(rows);
                await db.SaveChangesAsync(ct);
            }
        }
        return new TokenResponse(accessToken, "Bearer", (long)lifetime.TotalSeconds, scope, refreshToken, idToken);
    }

    private SecurityTokenDescriptor AccessTokenDescriptor(IssueRequest request, Guid id, string scope, TimeSpan lifetime, SigningCredentials signing)
    {
        var audiences = scopes.AudiencesOf(request.Scopes, issuer.Value);
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = request.SubjectId,
            ["client_id"] = request.Client.ClientId,
            ["scope"] = scope,
            [JwtRegisteredClaimNames.Jti] = id.ToString("N"),
        };
        if (request.Authorization?.AuthenticatedAt is { } authTime) claims[JwtRegisteredClaimNames.AuthTime] = authTime.ToUnixTimeSeconds();
        if (request.Authorization is { } family) claims["sid"] = family.Id.ToString("N");
        claims[JwtRegisteredClaimNames.Aud] = audiences.Count == 1 ? audiences[0] : audiences.ToArray();
        return new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Issuer = issuer.Value,
            IssuedAt = request.Now.UtcDateTime,
            NotBefore = request.Now.UtcDateTime,
            Expires = (request.Now + lifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = signing,
        };
    }

    private SecurityTokenDescriptor IdTokenDescriptor(IssueRequest request, ApplicationUser user, string accessToken, SigningCredentials signing)
    {
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = user.Id,
            // OIDC Core §3.1.3.6: the left half of SHA-256 of the access token (RS256 and ES256 both hash with SHA-256).
            ["at_hash"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)).AsSpan(0, 16).ToArray()),
        };
        if (request.Authorization?.AuthenticatedAt is { } authTime) claims[JwtRegisteredClaimNames.AuthTime] = authTime.ToUnixTimeSeconds();
        if (request.Authorization is { } family) claims["sid"] = family.Id.ToString("N");
        if (request.Nonce is not null) claims[JwtRegisteredClaimNames.Nonce] = request.Nonce;
        return new SecurityTokenDescriptor
        {
            TokenType = "JWT",
            Issuer = issuer.Value,
            Audience = request.Client.ClientId,
            IssuedAt = request.Now.UtcDateTime,
            NotBefore = request.Now.UtcDateTime,
            Expires = (request.Now + options.Value.IdTokenLifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = signing,
        };
    }

    private static Token Row(IssueRequest request, Guid id, TokenType type, byte[]? hash, DateTimeOffset expiresAt, string[] scopes) => new()
    {
        Id = id,
        AuthorizationId = request.Authorization?.Id,
        ClientId = request.Client.ClientId,
        SubjectId = request.SubjectId,
        Type = type,
        Status = TokenStatus.Valid,
        Hash = hash,
        Scopes = scopes,
        CreatedAt = request.Now,
        ExpiresAt = expiresAt,
    };
}
