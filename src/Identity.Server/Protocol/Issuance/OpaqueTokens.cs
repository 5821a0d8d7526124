using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Issuance;

/// <summary>Opaque token values (refresh tokens, codes, reference access tokens) and the hashes stored in their place.</summary>
internal static class OpaqueTokens
{
    /// <summary>256 bits from the OS's CSPRNG, base64url (43 characters).</summary>
    public static string New() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    /// <summary>
    /// The values a refresh token's redemption issues, derived from the random seed stored at redemption and the token
    /// the client presented. Only someone holding both — the client, with the server's row — can compute them, so a
    /// retry inside the reuse leeway is answered with the very same tokens while no token value is ever stored.
    /// </summary>
    public static SuccessorValues Successor(byte[] seed, string presentedToken)
    {
        using var hmac = new HMACSHA256(seed);
        byte[] Derive(string purpose) => hmac.ComputeHash(Encoding.UTF8.GetBytes(purpose + ":" + presentedToken));
        return new SuccessorValues(
            RefreshToken: Base64UrlEncoder.Encode(Derive("refresh_token")),
            AccessTokenId: new Guid(Derive("access_token").AsSpan(0, 16)),
            ReferenceAccessToken: Base64UrlEncoder.Encode(Derive("reference_token")));
    }
}

internal sealed record SuccessorValues(string RefreshToken, Guid AccessTokenId, string ReferenceAccessToken);
