using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Identity.Server.Accounts.Contracts;

public sealed class RegisterRequest
{
    [Required, Mailbox, MaxLength(256), JsonPropertyName("email")] public string? Email { get; set; }
    // An empty or all-space password is for PasswordPolicy to refuse in words that fit, not "the field is required".
    [Required(AllowEmptyStrings = true), JsonPropertyName("password")] public string? Password { get; set; }
    [MaxLength(256), RegularExpression(UserNames.Pattern, ErrorMessage = UserNames.Message), JsonPropertyName("userName")] public string? UserName { get; set; }
    [MaxLength(100), Printable, JsonPropertyName("firstName")] public string? FirstName { get; set; }
    [MaxLength(100), Printable, JsonPropertyName("lastName")] public string? LastName { get; set; }
    [MaxLength(64), JsonPropertyName("role")] public string? Role { get; set; }
}

public sealed class EmailRequest
{
    [Required, Mailbox, MaxLength(256), JsonPropertyName("email")] public string? Email { get; set; }
}

public sealed class UpdateProfileRequest
{
    [MaxLength(100), Printable, JsonPropertyName("firstName")] public string? FirstName { get; set; }
    [MaxLength(100), Printable, JsonPropertyName("lastName")] public string? LastName { get; set; }
    [MaxLength(256), RegularExpression(UserNames.Pattern, ErrorMessage = UserNames.Message), JsonPropertyName("userName")] public string? UserName { get; set; }
    [Mailbox, MaxLength(256), JsonPropertyName("email")] public string? Email { get; set; }
}

public sealed class ChangePasswordRequest
{
    [Required, JsonPropertyName("currentPassword")] public string? CurrentPassword { get; set; }
    [Required(AllowEmptyStrings = true), JsonPropertyName("newPassword")] public string? NewPassword { get; set; }
}

public sealed class ResetPasswordRequest
{
    [Required, MaxLength(450), JsonPropertyName("userId")] public string? UserId { get; set; }
    [Required, MaxLength(200), JsonPropertyName("token")] public string? Token { get; set; }
    [Required(AllowEmptyStrings = true), JsonPropertyName("newPassword")] public string? NewPassword { get; set; }
}

public sealed record ProfileResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("userName")] string? UserName,
    [property: JsonPropertyName("firstName")] string? FirstName,
    [property: JsonPropertyName("lastName")] string? LastName,
    [property: JsonPropertyName("emailConfirmed")] bool EmailConfirmed,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    /// <summary>An address the user changed to whose confirmation link has not been clicked yet (and has not expired); otherwise null.</summary>
    [property: JsonPropertyName("pendingEmail")] string? PendingEmail);

public sealed record MessageResponse([property: JsonPropertyName("message")] string Message);

internal static class UserNames
{
    public const string Pattern = @"^[A-Za-z0-9._@+\-]+$";
    public const string Message = "User names may contain letters, digits and . _ @ + - only.";
    public const string NotOwnAddressMessage = "A user name that is an email address must be this account's own address.";

    /// <summary>
    /// A chosen user name that is an email address other than the account's own. Sign-in looks an '@' up as an email
    /// first and then as a user name, and a registration's user name is its email by default: such a name made the
    /// address unregistrable for its owner ("user name taken") and let it sign in to the wrong account.
    /// </summary>
    public static bool IsAnotherAddress(string userName, string? ownEmail) =>
        MailboxAttribute.IsMailbox(userName) && !string.Equals(userName, ownEmail, StringComparison.OrdinalIgnoreCase);
}
