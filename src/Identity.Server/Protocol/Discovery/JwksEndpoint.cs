using System.Text.Json;
using Identity.Server.Protocol.Issuance;

namespace Identity.Server.Protocol.Discovery;

/// <summary>GET /.well-known/jwks (RFC 7517 §5): every public key a verifier may meet, private parts never.</summary>
internal sealed class JwksEndpoint(SigningKeyStore keys)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var set = await keys.GetAsync(ct);
        // A new key is published days before it signs (SigningKeyPublishAhead), so an hour of caching is safe.
        http.Response.Headers.CacheControl = "public, max-age=3600";
        var jwks = set.Published.Select(k => k.Jwk.Kty == "EC"
            ? new Dictionary<string, string> { ["kty"] = "EC", ["use"] = "sig", ["kid"] = k.KeyId, ["alg"] = k.Algorithm, ["crv"] = k.Jwk.Crv, ["x"] = k.Jwk.X, ["y"] = k.Jwk.Y }
            : new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["kid"] = k.KeyId, ["alg"] = k.Algorithm, ["n"] = k.Jwk.N, ["e"] = k.Jwk.E });
        return Results.Json(new { keys = jwks }, JsonSerializerOptions.Web, "application/jwk-set+json");
    }
}
