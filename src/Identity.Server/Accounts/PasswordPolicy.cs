using System.Reflection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// OWASP ASVS 5 §6.2 and NIST SP 800-63B §5.1.1.2: between MinimumLength and MaximumLength characters, and none of the
/// most common passwords (Data/common-passwords.txt). No composition rules. Characters are Unicode code points, so an
/// emoji is one, not the two UTF-16 units that Identity's own PasswordValidator counted (this replaces it). Passwords
/// are stored as typed, without Unicode normalisation: normalising now would no longer match the existing hashes.
/// </summary>
internal sealed class PasswordPolicy(CommonPasswords common, IOptions<AccountsOptions> options) : IPasswordValidator<ApplicationUser>
{
    public Task<IdentityResult> ValidateAsync(UserManager<ApplicationUser> manager, ApplicationUser user, string? password) =>
        Task.FromResult(Validate(password ?? ""));

    public IdentityResult Validate(string password)
    {
        var rules = options.Value.Password;
        var length = password.EnumerateRunes().Count();
        var errors = new List<IdentityError>();
        if (length < rules.MinimumLength)
            errors.Add(Error("PasswordTooShort", $"Passwords must be at least {rules.MinimumLength} characters."));
        if (length > rules.MaximumLength)
            errors.Add(Error("PasswordTooLong", $"Passwords must be at most {rules.MaximumLength} characters."));
        // NUL, tabs and line breaks cannot be typed into the login page's field (its form parser refuses NUL outright):
        // a password holding one could be set here but never used to sign in.
        if (password.Any(char.IsControl))
            errors.Add(Error("PasswordHasControlCharacters", "Passwords cannot contain control characters (such as tabs, line breaks or NUL)."));
        // Spaces are welcome within a password (NIST), but spaces alone are among the first guesses.
        else if (length >= rules.MinimumLength && string.IsNullOrWhiteSpace(password))
            errors.Add(Error("PasswordOnlySpaces", "A password of spaces only is too easy to guess; add other characters."));
        if (common.Contains(password))
            errors.Add(Error("PasswordTooCommon", "This password is among the most commonly used; choose another."));
        return errors.Count == 0 ? IdentityResult.Success : IdentityResult.Failed([.. errors]);
    }

    /// <summary>The refusals of a new password, on the field that carried it; empty when the password is acceptable.</summary>
    public Dictionary<string, string[]> Refusals(string password, string field) =>
        Validate(password) is { Succeeded: false } refused ? new() { [field] = [.. refused.Errors.Select(e => e.Description)] } : [];

    private static IdentityError Error(string code, string description) => new() { Code = code, Description = description };
}

/// <summary>The shipped list, loaded once.</summary>
internal sealed class CommonPasswords
{
    private readonly HashSet<string> passwords;

    public CommonPasswords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("common-passwords.txt")
            ?? throw new InvalidOperationException("The common password list is not embedded.");
        using var reader = new StreamReader(stream);
        passwords = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#')).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public int Count => passwords.Count;
    public bool Contains(string password) => passwords.Contains(password);
}
