using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>
/// Every hash of a user's password goes through here, and so through the <see cref="PasswordHashingQueue"/>: a sign-in's
/// check, the current password of a change, and a password chosen at registration, change or reset (checked against
/// the password policy first). No account request hashes on the thread pool, and one whose client has gone is not hashed.
/// </summary>
internal sealed class PasswordHashes(UserManager<ApplicationUser> users, PasswordHashingQueue hashing)
{
    public Task<PasswordVerificationResult> VerifyAsync(ApplicationUser user, string password, CancellationToken ct) =>
        hashing.RunAsync(() => users.PasswordHasher.VerifyHashedPassword(user, user.PasswordHash ?? "", password), ct);

    /// <summary>The hash to store for a password already known to be the user's (a rehash at sign-in).</summary>
    public Task<string> HashAsync(ApplicationUser user, string password, CancellationToken ct) =>
        hashing.RunAsync(() => users.PasswordHasher.HashPassword(user, password), ct);

    /// <summary>The hash to store for a new password, or every refusal of the policy (as UserManager gathers them).</summary>
    public async Task<(string? Hash, IdentityResult Result)> HashNewAsync(ApplicationUser user, string password, CancellationToken ct)
    {
        var errors = new List<IdentityError>();
        foreach (var validator in users.PasswordValidators)
            errors.AddRange((await validator.ValidateAsync(users, user, password)).Errors);
        if (errors.Count > 0) return (null, IdentityResult.Failed([.. errors]));
        return (await HashAsync(user, password, ct), IdentityResult.Success);
    }
}
