using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// The key that encrypts the tokens this server seals for itself (refresh tokens, codes, device and user codes, pushed
/// requests, reference access tokens' payloads) directly: JWE <c>dir</c> with A256CBC-HS512, a random IV per token.
/// Under A256KW every token had a content key of its own, drawn, wrapped and unwrapped in about fifty single-block AES
/// calls each way, and new AES and HMAC instances to use it. Nobody else opens these tokens, so one key held here does
/// the same work. Derived from the stored A256KW key like <see cref="SealSigningKey"/> (<see cref="DerivedKeys"/>). The
/// stored key still opens what was sealed under it, whose header names A256KW.
/// </summary>
internal static class SealEncryptionKey
{
    private static ReadOnlySpan<byte> Info => "Identity.Server seal encryption v1"u8;

    // A256CBC-HS512 takes a 512-bit key: the first half for HMAC-SHA-512, the second for AES-256 (RFC 7518 §5.2.5).
    public static EncryptingCredentials Derive(EncryptingCredentials wrapping) =>
        new(DerivedKeys.From(wrapping, Info, bytes: 64, ".dir"), JwtConstants.DirectKeyUseAlg,
            SecurityAlgorithms.Aes256CbcHmacSha512);
}
