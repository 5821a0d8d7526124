using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// The count of wrong passwords behind the lockout (SPEC §3), kept by single UPDATE statements that the database
/// applies one after another to the row as it then is, so that N concurrent failures count N (PostgreSQL and SQLite
/// alike). UserManager.AccessFailedAsync wrote back the whole user as read before the hash: concurrent failures lost
/// on the concurrency stamp, and as its result went unread, 30 wrong passwords at once counted one.
/// </summary>
internal sealed class LockoutCounter(ServerDbContext db, IOptions<AccountsOptions> options, TimeProvider time)
{
    /// <summary>
    /// Counts a wrong password, unless the account is locked out already (failures then are not counted, so that they
    /// do not extend it); true when this failure started the lockout. Not cancellable: a guess whose client hung up
    /// still counts.
    /// </summary>
    public async Task<bool> CountFailureAsync(string userId)
    {
        var now = time.GetUtcNow();
        // A new stamp with every count: a write of the whole user read before it (a profile update, a rehash at
        // sign-in) then fails on the stamp instead of putting back an older count or lockout.
        var counted = await CanLockNow(userId, now).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.AccessFailedCount, u => u.AccessFailedCount + 1)
            .SetProperty(u => u.ConcurrencyStamp, NewStamp()));
        if (counted == 0) return false;

        // The failure that reached the threshold starts the lockout, or one counted beside it does if that one gets
        // here first; once it is set, the others' statements no longer match. As Identity does, the count starts again.
        var lockout = options.Value.Lockout;
        var until = now + lockout.Duration;
        return await CanLockNow(userId, now).Where(u => u.AccessFailedCount >= lockout.MaxFailedAttempts).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.LockoutEnd, until)
            .SetProperty(u => u.AccessFailedCount, 0)
            .SetProperty(u => u.ConcurrencyStamp, NewStamp())) == 1;
    }

    /// <summary>
    /// After a right password: false if the account has been locked out since it was read, by failures counted while
    /// this password waited for its hash (a burst of guesses sent together with it); otherwise the count starts again.
    /// </summary>
    public async Task<bool> AcceptRightPasswordAsync(string userId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var state = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { LockedOut = u.LockoutEnabled && u.LockoutEnd != null && u.LockoutEnd > now, u.AccessFailedCount })
            .SingleOrDefaultAsync(ct);
        if (state is null || state.LockedOut) return false;
        if (state.AccessFailedCount > 0)
            await db.Users.Where(u => u.Id == userId && u.AccessFailedCount > 0).ExecuteUpdateAsync(s => s.SetProperty(u => u.AccessFailedCount, 0), ct);
        return true;
    }

    private IQueryable<ApplicationUser> CanLockNow(string userId, DateTimeOffset now) =>
        db.Users.Where(u => u.Id == userId && u.LockoutEnabled && (u.LockoutEnd == null || u.LockoutEnd <= now));

    private static string NewStamp() => Guid.NewGuid().ToString();
}
