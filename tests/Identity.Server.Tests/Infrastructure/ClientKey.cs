using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// A client's own signing key for private_key_jwt (RFC 7523): the public JWKS to configure on the server, and signed
/// client assertions with whatever claims a test needs to get wrong. An EC P-256 key by default; an RSA one on request, and either with the <c>alg</c> its JWK declares.
/// </summary>
public sealed class ClientKey(bool rsa = false, string? declaredAlgorithm = null) : IDisposable
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA? rsaKey = rsa ? RSA.Create(2048) : null;
    public string KeyId { get; } = Guid.NewGuid().ToString("N")[..12];

    /// <summary>The public key set, as Identity:Clients:N:JsonWebKeySet takes it.</summary>
    public string PublicJwks => JsonSerializer.Serialize(new { keys = new[] { PublicJwk() } });

    /// <summary>The private EC key as a JWK (with d), for third-party clients that sign assertions themselves.</summary>
    public string PrivateJwk
    {
        get
        {
            var parameters = key.ExportParameters(includePrivateParameters: true);
            return JsonSerializer.Serialize(new Dictionary<string, string>(PublicJwk()) { ["d"] = Base64UrlEncoder.Encode(parameters.D!) });
        }
    }

    private Dictionary<string, string> PublicJwk()
    {
        Dictionary<string, string> jwk;
        if (rsaKey is not null)
        {
            var rsaParameters = rsaKey.ExportParameters(includePrivateParameters: false);
            jwk = new() { ["kty"] = "RSA", ["kid"] = KeyId, ["use"] = "sig", ["n"] = Base64UrlEncoder.Encode(rsaParameters.Modulus!), ["e"] = Base64UrlEncoder.Encode(rsaParameters.Exponent!) };
        }
        else
        {
            var parameters = key.ExportParameters(includePrivateParameters: false);
            jwk = new()
            {
                ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = KeyId, ["use"] = "sig",
                ["x"] = Base64UrlEncoder.Encode(parameters.Q.X!), ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y!),
            };
        }
        if (declaredAlgorithm is not null) jwk["alg"] = declaredAlgorithm;
        return jwk;
    }

    /// <summary>
    /// A client assertion as openid-client makes one (iss = sub = client, aud = issuer, a minute's life, a fresh jti),
    /// changed by <paramref name="change"/>; <paramref name="type"/> is the JWT's typ header (null: none).
    /// </summary>
    public string Assertion(string clientId, string audience = "https://localhost/", Action<Dictionary<string, object>>? change = null,
        string? type = null, DateTimeOffset? now = null, string? algorithm = null)
    {
        var at = now ?? DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = clientId, ["sub"] = clientId, ["aud"] = audience, ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = at.ToUnixTimeSeconds(), ["exp"] = at.AddSeconds(60).ToUnixTimeSeconds(),
        };
        change?.Invoke(claims);
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = rsaKey is not null
                ? new SigningCredentials(new RsaSecurityKey(rsaKey) { KeyId = KeyId }, algorithm ?? SecurityAlgorithms.RsaSha256)
                : new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = KeyId }, algorithm ?? SecurityAlgorithms.EcdsaSha256),
            TokenType = type,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>The form fields that authenticate <paramref name="clientId"/> with <paramref name="assertion"/>.</summary>
    public static (string, string?)[] Fields(string clientId, string assertion) =>
        [("client_id", clientId), ("client_assertion_type", AssertionType), ("client_assertion", assertion)];

    public void Dispose()
    {
        key.Dispose();
        rsaKey?.Dispose();
    }
}
