using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// Whether a person, as read from the store, may be signed in now: not locked out, and confirmed if
/// <c>Accounts:RequireConfirmedEmail</c> asks it (SPEC §2, §3). Apart from <see cref="SignInPolicy"/> so that the
/// refresh and code grants, which re-check the person on every request, do not build UserManager and the password
/// machinery they never use.
/// </summary>
internal sealed class SignInEligibility(IOptions<AccountsOptions> options, TimeProvider time)
{
    public bool IsLockedOut(ApplicationUser user) => user.LockoutEnabled && user.LockoutEnd is { } end && end > time.GetUtcNow();

    /// <summary>The user, or null if there is none or they may not sign in.</summary>
    public ApplicationUser? Allows(ApplicationUser? user)
    {
        if (user is null || IsLockedOut(user)) return null;
        if (options.Value.RequireConfirmedEmail && !user.EmailConfirmed) return null;
        return user;
    }
}
