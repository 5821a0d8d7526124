namespace Identity.Server.Protocol.Keys;

/// <summary>
/// A key OpenIddict signs or encrypts with, shared by every node through the database. The private part is protected
/// with ASP.NET Core Data Protection (the key ring every node shares) and never stored in clear.
/// </summary>
public sealed class ProtocolKey
{
    /// <summary>The key id (<c>kid</c>).</summary>
    public required string Id { get; set; }
    /// <summary><see cref="KeyUses.Signing"/> or <see cref="KeyUses.Encryption"/>.</summary>
    public required string Use { get; set; }
    /// <summary>RS256 or ES256 for signing keys; A256KW (AES key wrap) for encryption keys.</summary>
    public required string Algorithm { get; set; }
    /// <summary>PKCS #8 (asymmetric) or the raw key bytes (symmetric), protected, base64.</summary>
    public required string ProtectedKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>From when it signs or encrypts; before that it is only published (JWKS) or known (decryption).</summary>
    public DateTimeOffset ActivatesAt { get; set; }
    /// <summary>From when it no longer signs or encrypts; it still verifies or decrypts until <see cref="ExpiresAt"/>.</summary>
    public DateTimeOffset RetiresAt { get; set; }
    /// <summary>When every token it signed or encrypted has expired: it leaves JWKS and the ring.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}

public static class KeyUses
{
    public const string Signing = "sig";
    public const string Encryption = "enc";
}
