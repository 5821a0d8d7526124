namespace Identity.Server.Protocol.Issuance;

/// <summary>
/// The row behind every issued token: access tokens (id = jti), refresh tokens and authorization codes. Opaque values
/// are never stored, only their SHA-256 in <see cref="Hash"/>.
/// </summary>
public sealed class Token
{
    public Guid Id { get; set; }
    public Guid? AuthorizationId { get; set; }
    public required string ClientId { get; set; }
    /// <summary>The user, or the client itself for client_credentials.</summary>
    public required string SubjectId { get; set; }
    public TokenType Type { get; set; }
    public TokenStatus Status { get; set; }
    public byte[]? Hash { get; set; }
    public string[] Scopes { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RedeemedAt { get; set; }
    /// <summary>
    /// Random bytes written when a refresh token is redeemed; with the presented token they derive its successor, so a
    /// retry inside the reuse leeway gets the very same tokens back without any token value being stored.
    /// </summary>
    public byte[]? SuccessorSeed { get; set; }
    /// <summary>Type-specific data (an authorization code's redirect URI, PKCE challenge, nonce), as JSON.</summary>
    public string? Payload { get; set; }
}

public enum TokenType { AccessToken, RefreshToken, AuthorizationCode }

public enum TokenStatus { Valid, Redeemed, Revoked }
