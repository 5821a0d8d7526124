using System.Security.Cryptography;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Accounts;

/// <summary>
/// Stores a changed or reset password as one UPDATE of the columns it decides, not as a write-back of the whole user
/// read before its hash. A wrong password counted while the new one was hashed (<see cref="LockoutCounter"/> renews the
/// concurrency stamp) made that write-back fail: a reset link was then used up, the answer was 204 and the password
/// was unchanged.
/// </summary>
internal sealed class NewPasswords(ServerDbContext db, TimeProvider time)
{
    /// <summary>
    /// The new hash, a clean failure count and new stamps, so that browser sessions end (<see cref="PeopleSessions"/>)
    /// and a write-back of the user as read before fails; a reset also ends a lockout. False if the user is gone.
    /// Not cancellable: a reset's link is used up by then.
    /// </summary>
    public async Task<bool> StoreAsync(string userId, string hash, bool reset)
    {
        var now = time.GetUtcNow();
        var stored = await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s =>
        {
            s.SetProperty(u => u.PasswordHash, hash)
                .SetProperty(u => u.AccessFailedCount, 0)
                .SetProperty(u => u.SecurityStamp, NewStamp())
                .SetProperty(u => u.ConcurrencyStamp, NewStamp());
            if (reset) s.SetProperty(u => u.LockoutEnd, (DateTimeOffset?)null).SetProperty(u => u.UpdatedAt, now);
        });
        return stored == 1;
    }

    // Identity's own stamps are 20 random bytes in base32; any unguessable, changing string serves.
    private static string NewStamp() => Convert.ToHexString(RandomNumberGenerator.GetBytes(20));
}
