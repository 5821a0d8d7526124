using System.Security.Cryptography;
using System.Text;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// AES-256-GCM under a key derived (HKDF-SHA256) from the presented refresh token and its row id: whoever can open the
/// successor could have asked for it anyway.
/// </summary>
internal static class SuccessorSeal
{
    private static readonly byte[] Info = "identity-server/refresh-successor/v1"u8.ToArray();
    private const int NonceSize = 12, TagSize = 16;

    public static byte[] Seal(string refreshToken, Guid tokenId, byte[] plaintext)
    {
        using var aes = new AesGcm(Key(refreshToken, tokenId), TagSize);
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), tokenId.ToByteArray());
        return output;
    }

    /// <summary>Null when the token is not the one the response was sealed for.</summary>
    public static byte[]? Open(string refreshToken, Guid tokenId, byte[] sealedResponse)
    {
        if (sealedResponse.Length < NonceSize + TagSize) return null;
        using var aes = new AesGcm(Key(refreshToken, tokenId), TagSize);
        var length = sealedResponse.Length - NonceSize - TagSize;
        var plaintext = new byte[length];
        try
        {
            aes.Decrypt(sealedResponse.AsSpan(0, NonceSize), sealedResponse.AsSpan(NonceSize, length), sealedResponse.AsSpan(NonceSize + length),
                plaintext, tokenId.ToByteArray());
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    private static byte[] Key(string refreshToken, Guid tokenId) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(refreshToken), 32, tokenId.ToByteArray(), Info);
}
