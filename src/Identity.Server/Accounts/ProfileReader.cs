using Identity.Server.Accounts.Contracts;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Accounts;

internal sealed class ProfileReader(ServerDbContext db)
{
    public async Task<ProfileResponse?> ReadAsync(string userId, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null) return null;
        var roles = await (from userRole in db.UserRoles
                           join role in db.Roles on userRole.RoleId equals role.Id
                           where userRole.UserId == userId
                           select role.Name!).ToListAsync(ct);
        return new ProfileResponse(user.Id, user.Email, user.UserName, user.FirstName, user.LastName, user.EmailConfirmed, roles, user.CreatedAt);
    }
}
