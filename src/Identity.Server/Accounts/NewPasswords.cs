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
    /// and a write-back of the user as read before fails; a reset also ends a lockout. A change gives the hash whose
    /// password it verified (<paramref name="replacing"/>), and stores only over that one: of two changes sent at once,
    /// or a change racing a reset, each verified against the old password, the later one used to win, both answered
    /// 204, and the password left was not the one its owner set (an attacker's change could undo the owner's reset).
    /// False if the user is gone or, for a change, the password changed meanwhile. Not cancellable: a reset's link is
    /// used up by then.
    /// </summary>
    public async Task<bool> StoreAsync(string userId, string hash, bool reset, string? replacing = null)
    {
        var now = time.GetUtcNow();
        var user = db.Users.Where(u => u.Id == userId);
        if (!reset) user = user.Where(u => u.PasswordHash == replacing);
        var stored = await user.ExecuteUpdateAsync(s =>
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
