namespace Identity.Server.Protocol.ClientAuthentication;

/// <summary>
/// A client assertion's jti, remembered until the assertion expires so that it is accepted once (RFC 7523 §3 item 7),
/// on whichever node it is presented: the key (client, jti) is unique in the database.
/// </summary>
public sealed class UsedClientAssertion
{
    public string ClientId { get; set; } = "";
    /// <summary>SHA-256 of the jti, base64url: any jti fits the key, and none is kept as sent.</summary>
    public string JwtIdHash { get; set; } = "";
    /// <summary>The assertion's exp plus the clock skew: after it, the assertion is refused as expired anyway.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
