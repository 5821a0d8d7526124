namespace Identity.Server.Accounts;

/// <summary>Section "Accounts" (SPEC §3, §5).</summary>
public sealed class AccountsOptions
{
    public const string SectionName = "Accounts";

    /// <summary>Default true: unconfirmed users cannot get tokens.</summary>
    public bool RequireConfirmedEmail { get; set; } = true;
    /// <summary>
    /// Roles a registration may ask for; the first is given when it asks for none. Default ["user"], from
    /// <see cref="Hosting.DefaultSettings"/>: an initialised array would be kept by the binder, which appends the
    /// configured roles to it, so that ["customer"] read as ["user", "customer"].
    /// </summary>
    public string[] SelfServiceRoles { get; set; } = [];
    /// <summary>Default 24 hours.</summary>
    public TimeSpan EmailConfirmationLinkLifetime { get; set; } = TimeSpan.FromHours(24);
    /// <summary>Default 1 hour.</summary>
    public TimeSpan PasswordResetLinkLifetime { get; set; } = TimeSpan.FromHours(1);
    /// <summary>Confirmation and reset emails per address per hour; more requests still answer 202 but send nothing.</summary>
    public int EmailsPerAddressPerHour { get; set; } = 5;
    public PasswordPolicyOptions Password { get; set; } = new();
    public LockoutPolicyOptions Lockout { get; set; } = new();
}

/// <summary>"Accounts:Password": OWASP ASVS 5 §6.2 — length, not composition rules.</summary>
public sealed class PasswordPolicyOptions
{
    /// <summary>Default 8.</summary>
    public int MinimumLength { get; set; } = 8;
    /// <summary>Default 128 (ASVS asks that at least 64 be accepted).</summary>
    public int MaximumLength { get; set; } = 128;
    /// <summary>PBKDF2-HMAC-SHA512 iterations. Default 210,000 (OWASP); older hashes are upgraded at the next sign-in.</summary>
    public int HashIterations { get; set; } = 210_000;
}

/// <summary>"Accounts:Lockout": counted alike by the password grant and the login page.</summary>
public sealed class LockoutPolicyOptions
{
    /// <summary>Default 5 failures.</summary>
    public int MaxFailedAttempts { get; set; } = 5;
    /// <summary>Default 15 minutes.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);
}

internal sealed class AccountsOptionsValidator(IConfiguration configuration) : Microsoft.Extensions.Options.IValidateOptions<AccountsOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, AccountsOptions options)
    {
        var failures = new List<string>();
        // A blank role passed and made registrations asking for it a 500; a role is a name, as ASP.NET Core Identity stores it.
        var roleKeys = Hosting.ListKeys.Of(configuration, $"{AccountsOptions.SectionName}:{nameof(AccountsOptions.SelfServiceRoles)}", options.SelfServiceRoles.Length);
        for (var i = 0; i < options.SelfServiceRoles.Length; i++)
        {
            var role = options.SelfServiceRoles[i];
            if (string.IsNullOrWhiteSpace(role) || role.Trim() != role || role.Length > 256 || role.Any(char.IsControl))
                failures.Add($"{roleKeys[i]} must be a role name: not blank, at most 256 characters, without surrounding spaces or control characters.");
            else if (options.SelfServiceRoles.Take(i).Contains(role, StringComparer.OrdinalIgnoreCase))
                failures.Add($"{roleKeys[i]} repeats the role '{role}'.");
        }
        if (options.Password.MinimumLength is < 1 or > 64) failures.Add("Accounts:Password:MinimumLength must be between 1 and 64.");
        if (options.Password.MaximumLength < 64) failures.Add("Accounts:Password:MaximumLength must be at least 64 (OWASP ASVS 5 §6.2).");
        if (options.Password.HashIterations < 10_000) failures.Add("Accounts:Password:HashIterations must be at least 10000.");
        if (options.Lockout.MaxFailedAttempts < 1) failures.Add("Accounts:Lockout:MaxFailedAttempts must be at least 1.");
        // As for the other rate limits: below 1 it silently became 1 an hour.
        if (options.EmailsPerAddressPerHour < 1) failures.Add("Accounts:EmailsPerAddressPerHour must be at least 1.");
        // Bounds against slips, and against lockout ends and link expiries out of DateTimeOffset's range. A link is a
        // credential in a mailbox: a confirmation link for a month at most, a reset link, which takes over the
        // account, for a day (OWASP Forgot Password Cheat Sheet: reset tokens expire after a short time). A lockout
        // longer than a day is an account that anyone who knows its name can keep shut.
        if (options.Lockout.Duration <= TimeSpan.Zero || options.Lockout.Duration > TimeSpan.FromDays(1))
            failures.Add("Accounts:Lockout:Duration must be a positive TimeSpan of at most one day.");
        if (options.EmailConfirmationLinkLifetime <= TimeSpan.Zero || options.EmailConfirmationLinkLifetime > TimeSpan.FromDays(30))
            failures.Add("Accounts:EmailConfirmationLinkLifetime must be a positive TimeSpan of at most 30 days.");
        if (options.PasswordResetLinkLifetime <= TimeSpan.Zero || options.PasswordResetLinkLifetime > TimeSpan.FromDays(1))
            failures.Add("Accounts:PasswordResetLinkLifetime must be a positive TimeSpan of at most one day.");
        return failures.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
