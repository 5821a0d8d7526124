using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// What signs and encrypts now, and every key still needed to verify or decrypt: an immutable snapshot of the
/// database's keys, swapped whole. <see cref="FreshUntil"/> is the next moment something in it changes (a key
/// activates or retires) or the reload interval ends, whichever is first.
/// </summary>
internal sealed record KeySet(
    IReadOnlyDictionary<string, SigningCredentials> ActiveSigning,
    IReadOnlyList<SigningCredentials> Signing,
    EncryptingCredentials ActiveEncryption,
    IReadOnlyList<EncryptingCredentials> Encryption,
    DateTimeOffset FreshUntil,
    string Fingerprint)
{
    /// <summary>The key that signs tokens of the configured algorithm.</summary>
    public SigningCredentials SigningFor(string algorithm) => ActiveSigning[algorithm];

    /// <summary>Signs what <see cref="ActiveEncryption"/> seals (see <see cref="SealSigningKey"/>).</summary>
    public SigningCredentials ActiveSealSigning { get; } = SealSigningKey.Derive(ActiveEncryption);

    /// <summary>Verify what any of <see cref="Encryption"/> sealed.</summary>
    public IReadOnlyList<SecurityKey> SealSigningKeys { get; } = [.. Encryption.Select(e => SealSigningKey.Derive(e).Key)];

    /// <summary>Seals for this server alone (see <see cref="SealEncryptionKey"/>).</summary>
    public EncryptingCredentials ActiveSealEncryption { get; } = SealEncryptionKey.Derive(ActiveEncryption);

    /// <summary>Open what any of <see cref="Encryption"/>'s derived keys sealed.</summary>
    public IReadOnlyList<EncryptingCredentials> SealEncryption { get; } = [.. Encryption.Select(SealEncryptionKey.Derive)];
}

/// <summary>
/// The current <see cref="KeySet"/> of this node, and the change token OpenIddict's server and validation options
/// are rebuilt on when it is swapped: keys reach OpenIddict only through Options, never by mutating them.
/// </summary>
internal sealed class KeyRing
{
    private KeySet? current;
    private CancellationTokenSource changed = new();

    /// <summary>Null until the keys were first read from the database.</summary>
    public KeySet? Current => Volatile.Read(ref current);

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref changed).Token);

    private string? reloadProblem;

    /// <summary>Why the last reload failed, while the keys loaded before stay in use; null once a reload succeeds.</summary>
    public string? ReloadProblem => Volatile.Read(ref reloadProblem);

    /// <summary>
    /// Swaps the snapshot; OpenIddict's options are rebuilt only when the keys themselves changed. A
    /// <paramref name="problem"/> comes with the previous keys kept after a failed reload.
    /// </summary>
    public void Publish(KeySet set, string? problem = null)
    {
        Volatile.Write(ref reloadProblem, problem);
        var previousSet = Interlocked.Exchange(ref current, set);
        if (previousSet?.Fingerprint == set.Fingerprint) return;
        var previous = Interlocked.Exchange(ref changed, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }
}
