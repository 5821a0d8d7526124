using System.Buffers;
using System.Security.Cryptography;

namespace Identity.Server.Protocol.Protection;

/// <summary>
/// The platform's random numbers and SHA-256, registered under the names OpenIddict asks <see cref="CryptoConfig"/> for
/// each time it draws a reference token's identifier or hashes one for storage: the names are its seam for an
/// application's own algorithms. Unregistered, every lookup of a name sends <see cref="CryptoConfig"/> into
/// <c>Type.GetType</c>, which parses the name as a type name and walks the stack for the calling assembly before
/// OpenIddict falls back to these same platform calls: 1.6 % of a refresh's samples. Registered, the name is found in
/// CryptoConfig's table. The registration is process-wide, as CryptoConfig is; registering again changes nothing.
/// </summary>
public static class PlatformCryptoProviders
{
    public const string RandomNumberGeneratorName = "OpenIddict RNG Cryptographic Provider";
    public const string Sha256Name = "OpenIddict SHA-256 Cryptographic Provider";

    public static void Register()
    {
        CryptoConfig.AddAlgorithm(typeof(PlatformRandomNumberGenerator), RandomNumberGeneratorName);
        CryptoConfig.AddAlgorithm(typeof(OneShotSha256), Sha256Name);
    }
}

/// <summary>The platform's cryptographic random number generator (CryptoConfig needs a public type to create).</summary>
public sealed class PlatformRandomNumberGenerator : RandomNumberGenerator
{
    public override void GetBytes(byte[] data) => Fill(data);

    public override void GetBytes(byte[] data, int offset, int count) => Fill(data.AsSpan(offset, count));

    public override void GetBytes(Span<byte> data) => Fill(data);

    public override void GetNonZeroBytes(byte[] data) => GetNonZeroBytes(data.AsSpan());

    public override void GetNonZeroBytes(Span<byte> data)
    {
        Fill(data);
        int zero;
        while ((zero = data.IndexOf((byte)0)) >= 0) Fill(data.Slice(zero, 1));
    }
}

/// <summary>
/// SHA-256 through the platform's one-shot call: OpenIddict hashes a short id in one call, and an instance of
/// <see cref="SHA256.Create"/> would allocate a native hash context for it. What is written in several blocks is kept
/// until the hash is asked for.
/// </summary>
public sealed class OneShotSha256 : SHA256
{
    private readonly ArrayBufferWriter<byte> pending = new();

    public override void Initialize() => pending.Clear();

    protected override void HashCore(byte[] array, int ibStart, int cbSize) => pending.Write(array.AsSpan(ibStart, cbSize));

    protected override void HashCore(ReadOnlySpan<byte> source) => pending.Write(source);

    protected override byte[] HashFinal()
    {
        var hash = HashData(pending.WrittenSpan);
        pending.Clear();
        return hash;
    }

    protected override bool TryHashFinal(Span<byte> destination, out int bytesWritten)
    {
        var written = TryHashData(pending.WrittenSpan, destination, out bytesWritten);
        pending.Clear();
        return written;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) pending.Clear();
        base.Dispose(disposing);
    }
}
