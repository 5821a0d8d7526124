using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// Keys derived with HKDF-SHA256 from a stored symmetric key, one label per use, so that no two uses share key bytes:
/// they rotate with the stored key and are protected at rest with it.
/// </summary>
internal static class DerivedKeys
{
    public static SymmetricSecurityKey From(EncryptingCredentials stored, ReadOnlySpan<byte> label, int bytes, string keyIdSuffix)
    {
        var derived = new byte[bytes];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, ((SymmetricSecurityKey)stored.Key).Key, derived, salt: [], info: label);
        return new SymmetricSecurityKey(derived) { KeyId = stored.Key.KeyId + keyIdSuffix };
    }
}
