using System.Reflection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// OWASP ASVS 5 §6.2: a maximum length well above 64, and none of the most common passwords (Data/common-passwords.txt).
/// The minimum length is Identity's own RequiredLength. No composition rules.
/// </summary>
internal sealed class PasswordPolicy(CommonPasswords common, IOptions<AccountsOptions> options) : IPasswordValidator<ApplicationUser>
{
    public Task<IdentityResult> ValidateAsync(UserManager<ApplicationUser> manager, ApplicationUser user, string? password)
    {
        if (password is null) return Task.FromResult(IdentityResult.Success);
        if (password.Length > options.Value.Password.MaximumLength)
            return Task.FromResult(IdentityResult.Failed(new IdentityError { Code = "PasswordTooLong", Description = $"Passwords must be at most {options.Value.Password.MaximumLength} characters." }));
        if (common.Contains(password))
            return Task.FromResult(IdentityResult.Failed(new IdentityError { Code = "PasswordTooCommon", Description = "This password is among the most commonly used; choose another." }));
        return Task.FromResult(IdentityResult.Success);
    }
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
