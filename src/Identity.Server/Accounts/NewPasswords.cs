using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>
/// A password chosen at registration, change or reset: checked against the password policy, then hashed in the
/// <see cref="PasswordHashingQueue"/> like a sign-in's, so that no account request hashes on the thread pool and a
/// request whose client has gone is not hashed.
/// </summary>
internal sealed class NewPasswords(UserManager<ApplicationUser> users, PasswordHashingQueue hashing)
{
    /// <summary>The hash to store, or every refusal of the policy (as UserManager gathers them).</summary>
    public async Task<(string? Hash, IdentityResult Result)> HashAsync(ApplicationUser user, string password, CancellationToken ct)
    {
        var errors = new List<IdentityError>();
        foreach (var validator in users.PasswordValidators)
            errors.AddRange((await validator.ValidateAsync(users, user, password)).Errors);
        if (errors.Count > 0) return (null, IdentityResult.Failed([.. errors]));
        return (await hashing.RunAsync(() => users.PasswordHasher.HashPassword(user, password), ct), IdentityResult.Success);
    }

    /// <summary>Whether <paramref name="password"/> is the user's current one.</summary>
    public async Task<bool> IsCurrentAsync(ApplicationUser user, string password, CancellationToken ct) =>
        await hashing.RunAsync(() => users.PasswordHasher.VerifyHashedPassword(user, user.PasswordHash ?? "", password), ct) != PasswordVerificationResult.Failed;
}
