using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Accounts;

/// <summary>The one-time values in email links (SPEC §3) and the hashes stored in their place.</summary>
internal static class LinkTokens
{
    /// <summary>256 bits from the OS's CSPRNG, base64url (43 characters).</summary>
    public static string New() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
