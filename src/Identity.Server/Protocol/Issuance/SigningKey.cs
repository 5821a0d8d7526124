namespace Identity.Server.Protocol.Issuance;

/// <summary>A token signing key shared by every node. The private key is protected with Data Protection.</summary>
public sealed class SigningKey
{
    /// <summary>The JWK <c>kid</c>.</summary>
    public required string Id { get; set; }
    public required string Algorithm { get; set; }
    /// <summary>PKCS#8 private key, protected by Data Protection and base64-encoded.</summary>
    public required string ProtectedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Published in JWKS from creation, used for signing from this instant, so that caches learn it first.</summary>
    public DateTimeOffset ActivatesAt { get; set; }
    /// <summary>Stops signing at this instant.</summary>
    public DateTimeOffset RetiresAt { get; set; }
    /// <summary>Leaves JWKS at this instant: after the last token it signed has expired.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
