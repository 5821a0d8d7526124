using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Authorize;

/// <summary>RFC 7636, S256 only: "plain" protects nothing against an attacker who can read the authorization request.</summary>
internal static class Pkce
{
    public const string S256 = "S256";

    /// <summary>§4.1, §4.2: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: >= 43 and <= 128 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');

    /// <summary>§4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in constant time.</summary>
    public static bool Verifies(string verifier, string challenge)
    {
        var computed = Encoding.ASCII.GetBytes(Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(challenge));
    }
}
