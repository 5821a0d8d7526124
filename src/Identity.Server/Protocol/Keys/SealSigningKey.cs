using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// The HMAC key that signs the tokens this server seals for itself (refresh tokens, codes, device and user codes,
/// pushed requests). Nobody else verifies them, so a public-key signature buys nothing there and costs an RSA
/// operation per token; the seal (A256KW + A256CBC-HS512) already authenticates them, and the HMAC keeps the inner
/// JWS OpenIddict expects. Derived with HKDF from the encryption key that seals the same tokens, so it rotates and is
/// protected at rest with it, and the two uses never share key bytes. Whoever could read one could read the other,
/// and the RSA keys are under the same protection.
/// </summary>
internal static class SealSigningKey
{
    private static ReadOnlySpan<byte> Info => "Identity.Server seal signing v1"u8;

    public static SigningCredentials Derive(EncryptingCredentials encryption)
    {
        var secret = ((SymmetricSecurityKey)encryption.Key).Key;
        var derived = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, derived, salt: [], info: Info);
        var key = new SymmetricSecurityKey(derived) { KeyId = encryption.Key.KeyId + ".hs256" };
        return new SigningCredentials(key, SecurityAlgorithms.HmacSha256);
    }
}
