using Identity.Server.Accounts.Contracts;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Accounts;

internal sealed class ProfileReader(ServerDbContext db, TimeProvider time)
{
    public async Task<ProfileResponse?> ReadAsync(string userId, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null) return null;
        var roles = await (from userRole in db.UserRoles
                           join role in db.Roles on userRole.RoleId equals role.Id
                           where userRole.UserId == userId
                           select role.Name!).ToListAsync(ct);
        return new ProfileResponse(user.Id, user.Email, user.UserName, user.FirstName, user.LastName, user.EmailConfirmed, roles, user.CreatedAt,
            await PendingEmailAsync(user, ct));
    }

    /// <summary>
    /// A changed address waits for its link (SPEC §3) as a confirmation token issued for it: the one still usable, since
    /// a new link ends the earlier ones. A token for the current address (registration, resend) is no change.
    /// </summary>
    private async Task<string?> PendingEmailAsync(ApplicationUser user, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var pending = await db.AccountTokens.AsNoTracking()
            .Where(t => t.UserId == user.Id && t.Purpose == AccountTokenPurpose.ConfirmEmail && t.UsedAt == null && t.ExpiresAt > now)
            .OrderByDescending(t => t.CreatedAt).Select(t => t.Email).FirstOrDefaultAsync(ct);
        return pending is not null && !string.Equals(pending, user.Email, StringComparison.OrdinalIgnoreCase) ? pending : null;
    }
}
