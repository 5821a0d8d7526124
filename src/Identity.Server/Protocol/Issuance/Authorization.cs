namespace Identity.Server.Protocol.Issuance;

/// <summary>
/// One user's grant to one client (OpenIddict's authorization). An ad-hoc authorization is the token family of one
/// sign-in: every token issued from it points here, so revoking it revokes them all. A permanent one remembers consent.
/// </summary>
public sealed class Authorization
{
    public Guid Id { get; set; }
    public required string ClientId { get; set; }
    public required string SubjectId { get; set; }
    public string[] Scopes { get; set; } = [];
    public AuthorizationKind Kind { get; set; }
    public AuthorizationStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The absolute end of the family: no refresh token outlives it.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    /// <summary>When the user authenticated (OIDC <c>auth_time</c>).</summary>
    public DateTimeOffset? AuthenticatedAt { get; set; }
}

public enum AuthorizationKind { AdHoc, Permanent }

public enum AuthorizationStatus { Valid, Revoked }
