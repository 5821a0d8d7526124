namespace Identity.Server.Accounts;

/// <summary>
/// A one-time token behind an emailed link (SPEC §3): only its hash is stored, with its use time; it is bound to the
/// user and, for confirmation, to the address it confirms; issuing a new one ends the previous ones. ASP.NET Core
/// Identity's own tokens stay valid until the security stamp changes, so they cannot give single use.
/// </summary>
public sealed class AccountToken
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public AccountTokenPurpose Purpose { get; set; }
    public required byte[] Hash { get; set; }
    /// <summary>The address a confirmation token confirms (a new one when the user changes their email).</summary>
    public string? Email { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

public enum AccountTokenPurpose { ConfirmEmail, ResetPassword }
