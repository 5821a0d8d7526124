using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// The HMAC key that signs the tokens this server seals for itself (refresh tokens, codes, device and user codes,
/// pushed requests). Nobody else verifies them, so a public-key signature buys nothing there and costs an RSA
/// operation per token; the seal (A256CBC-HS512, <see cref="SealEncryptionKey"/>) already authenticates them, and the
/// HMAC keeps the inner JWS OpenIddict expects. Derived with HKDF from the stored symmetric key, as the key that seals
/// the same tokens is, so it rotates and is protected at rest with it, and the uses never share key bytes. Whoever
/// could read one could read the other, and the RSA keys are under the same protection.
/// </summary>
internal static class SealSigningKey
{
    private static ReadOnlySpan<byte> Info => "Identity.Server seal signing v1"u8;

    public static SigningCredentials Derive(EncryptingCredentials encryption) =>
        new(DerivedKeys.From(encryption, Info, bytes: 32, ".hs256"), SecurityAlgorithms.HmacSha256);
}
