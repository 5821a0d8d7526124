using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>
/// Every hash of a user's password goes through here, and so through the <see cref="PasswordHashingQueue"/>: a sign-in's
/// check, the current password of a change, and a password chosen at registration, change or reset (checked against
/// the password policy first, by its handler). No account request hashes on the thread pool, and one whose client has
/// gone is not hashed.
/// </summary>
internal sealed class PasswordHashes(UserManager<ApplicationUser> users, PasswordHashingQueue hashing)
{
    public Task<PasswordVerificationResult> VerifyAsync(ApplicationUser user, string password, CancellationToken ct) =>
        hashing.RunAsync(() => users.PasswordHasher.VerifyHashedPassword(user, user.PasswordHash ?? "", password), ct);

    /// <summary>
    /// The hash to store: for a password already known to be the user's (a rehash at sign-in), or for a new one that
    /// <see cref="PasswordPolicy"/> has accepted (the handler checks it with the request's other fields first).
    /// </summary>
    public Task<string> HashAsync(ApplicationUser user, string password, CancellationToken ct) =>
        hashing.RunAsync(() => users.PasswordHasher.HashPassword(user, password), ct);
}
