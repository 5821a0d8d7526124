using Identity.Server.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

public enum SignInOutcome { Succeeded, InvalidCredentials, LockedOut, NotConfirmed }

/// <summary>Where a person typed their password; all count towards the same lockout (SPEC §3), and metrics tell them apart.</summary>
public enum SignInChannel { PasswordGrant, LoginPage, PasswordChange }

/// <summary>
/// The one place that decides whether a person may sign in: the password grant and the login page both call it, so
/// lockout counts and confirmation rules are the same in both (SPEC §2, §3).
/// </summary>
internal sealed class SignInPolicy(UserManager<ApplicationUser> users, DummyPassword dummy, PasswordHashingQueue hashing, PasswordHashes passwords, LockoutCounter lockouts,
    SignInEligibility eligibility, IOptions<AccountsOptions> options, ServerMetrics metrics)
{
    /// <summary>
    /// Checks a user name or email and a password. Unknown users cost the same hash verification as known ones, and
    /// lockout or a missing confirmation is only revealed after the password proved right. Refusals and lockouts are
    /// counted per <paramref name="channel"/>. Cancelled, while it waits for its turn to verify, when the client goes.
    /// </summary>
    public async Task<(SignInOutcome Outcome, ApplicationUser? User)> CheckPasswordAsync(string login, string password, SignInChannel channel,
        CancellationToken ct)
    {
        var (outcome, user) = await CheckAsync(login, password, channel, ct);
        if (outcome != SignInOutcome.Succeeded) metrics.PasswordSignInFailed(channel, outcome);
        return (outcome, user);
    }

    private async Task<(SignInOutcome Outcome, ApplicationUser? User)> CheckAsync(string login, string password, SignInChannel channel, CancellationToken ct)
    {
        var user = await FindAsync(login);
        var lockedOut = user is not null && eligibility.IsLockedOut(user);
        // Known and unknown users, locked out or not, wait in the same queue for the same work.
        var verdict = user is null ? await hashing.RunAsync(() => dummy.Verify(password), ct) : await passwords.VerifyAsync(user, password, ct);
        var correct = verdict != PasswordVerificationResult.Failed;
        if (user is null) return (SignInOutcome.InvalidCredentials, null);
        // Not counted, so that the owner learns of the lockout and a guesser learns nothing.
        if (lockedOut) return (correct ? SignInOutcome.LockedOut : SignInOutcome.InvalidCredentials, user);
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // Stored with fewer iterations or an older format (SPEC §3): stored again as now configured, as UserManager's
            // own password check does.
            user.PasswordHash = await passwords.HashAsync(user, password, ct);
            await users.UpdateSecurityStampAsync(user);
        }
        if (!correct)
        {
            if (await lockouts.CountFailureAsync(user.Id)) metrics.LockedOut(channel);
            return (SignInOutcome.InvalidCredentials, user);
        }
        // Guesses sent together with this one may have locked the account while it waited for its hash.
        if (!await lockouts.AcceptRightPasswordAsync(user.Id, ct)) return (SignInOutcome.LockedOut, user);
        if (options.Value.RequireConfirmedEmail && !user.EmailConfirmed) return (SignInOutcome.NotConfirmed, user);
        return (SignInOutcome.Succeeded, user);
    }

    /// <summary>The user still exists, is not locked out, and is confirmed if required (the authorize endpoint's session).</summary>
    public async Task<ApplicationUser?> FindUserWhoCanSignInAsync(string userId) => eligibility.Allows(await users.FindByIdAsync(userId));

    private async Task<ApplicationUser?> FindAsync(string login)
    {
        // A phone keyboard adds a space after an address it completed. No account's name or address begins or ends with
        // a space (registration refuses them), so trimming can only find the account meant, never another one.
        login = login.Trim();
        if (login.Length > 256) return null;
        return login.Contains('@')
            ? await users.FindByEmailAsync(login) ?? await users.FindByNameAsync(login)
            : await users.FindByNameAsync(login);
    }
}

/// <summary>A hash verified for unknown users, so that their answer takes as long as a wrong password's.</summary>
internal sealed class DummyPassword
{
    private readonly PasswordHasher<ApplicationUser> hasher;
    private readonly string hash;
    private readonly ApplicationUser nobody = new();

    public DummyPassword(IOptions<PasswordHasherOptions> options)
    {
        // Same options as the real hasher, so the same iteration count and so the same cost.
        hasher = new PasswordHasher<ApplicationUser>(options);
        hash = hasher.HashPassword(nobody, Guid.NewGuid().ToString());
    }

    /// <summary>Always Failed: nobody has this password.</summary>
    public PasswordVerificationResult Verify(string password)
    {
        hasher.VerifyHashedPassword(nobody, hash, password);
        return PasswordVerificationResult.Failed;
    }
}
