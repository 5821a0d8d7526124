using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Protocol.Identities;

/// <summary>
/// The read of the person behind every refresh, code redemption and userinfo request, untracked (nothing here writes
/// the person). On PostgreSQL it is a statement of ours (<see cref="SingleRowRead"/>); elsewhere an EF compiled query:
/// <c>UserManager.FindByIdAsync</c> goes through EF Core's <c>FindAsync</c>, which builds and funcletizes a query on
/// every call, and so does a LINQ query written inline. Made once per host, like <see cref="TokenQueries"/>. On
/// PostgreSQL the person usually came with the presented token's row already (<see cref="TokenQueries"/> joins it),
/// and is taken from <see cref="UntrackedRows"/> without a second round trip.
/// </summary>
internal sealed class UserQueries(IOptions<DatabaseOptions> database, MultiplexedReads shared)
{
    internal static readonly string[] Columns = ["Id", "UserName", "NormalizedUserName", "Email", "NormalizedEmail", "EmailConfirmed", "PasswordHash",
        "SecurityStamp", "ConcurrencyStamp", "PhoneNumber", "PhoneNumberConfirmed", "TwoFactorEnabled", "LockoutEnd", "LockoutEnabled",
        "AccessFailedCount", "FirstName", "LastName", "CreatedAt", "UpdatedAt"];

    private readonly Func<DbContext, string, Task<ApplicationUser?>> compiledById =
        EF.CompileAsyncQuery((DbContext db, string id) => db.Set<ApplicationUser>().AsNoTracking().FirstOrDefault(u => u.Id == id));

    private readonly Func<DbContext, string, IAsyncEnumerable<string?>> compiledRolesOf =
        EF.CompileAsyncQuery((DbContext db, string id) => db.Set<IdentityUserRole<string>>().Where(link => link.UserId == id)
            .Join(db.Set<IdentityRole>(), link => link.RoleId, role => role.Id, (_, role) => role.Name));

    private string? statement;

    public async Task<ApplicationUser?> ById(DbContext db, UntrackedRows read, string id, CancellationToken ct) =>
        read.User(id) ?? (database.Value.Provider == DatabaseProvider.Postgres
            ? await SingleRowRead.ReadAsync(db, shared, statement ??= Statement(db), id, reader => Read(reader, 0), ct)
            : await compiledById(db, id));

    /// <summary>The names of the person's roles, as <c>UserManager.GetRolesAsync</c> reads them, without building one.</summary>
    public async Task<List<string>> RolesOf(DbContext db, string userId, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var name in compiledRolesOf(db, userId).WithCancellation(ct)) if (name is not null) names.Add(name);
        return names;
    }

    /// <summary>The person from <see cref="Columns"/>, read from <paramref name="first"/> on.</summary>
    internal static ApplicationUser Read(NpgsqlDataReader reader, int first)
    {
        var user = SingleRowRead.Blank<ApplicationUser>();
        user.Id = reader.GetString(first);
        user.UserName = reader.TextOrNull(first + 1);
        user.NormalizedUserName = reader.TextOrNull(first + 2);
        user.Email = reader.TextOrNull(first + 3);
        user.NormalizedEmail = reader.TextOrNull(first + 4);
        user.EmailConfirmed = reader.GetBoolean(first + 5);
        user.PasswordHash = reader.TextOrNull(first + 6);
        user.SecurityStamp = reader.TextOrNull(first + 7);
        user.ConcurrencyStamp = reader.TextOrNull(first + 8);
        user.PhoneNumber = reader.TextOrNull(first + 9);
        user.PhoneNumberConfirmed = reader.GetBoolean(first + 10);
        user.TwoFactorEnabled = reader.GetBoolean(first + 11);
        user.LockoutEnd = reader.OffsetOrNull(first + 12);
        user.LockoutEnabled = reader.GetBoolean(first + 13);
        user.AccessFailedCount = reader.GetInt32(first + 14);
        user.FirstName = reader.TextOrNull(first + 15);
        user.LastName = reader.TextOrNull(first + 16);
        user.CreatedAt = reader.GetFieldValue<DateTimeOffset>(first + 17);
        user.UpdatedAt = reader.GetFieldValue<DateTimeOffset>(first + 18);
        return user;
    }

    private static string Statement(DbContext db)
    {
        var user = db.Model.FindEntityType(typeof(ApplicationUser))!;
        return $"""
            SELECT {string.Join(", ", Columns.Select(c => StoreNames.Column(user, c)))}
            FROM {StoreNames.Table(user)}
            WHERE {StoreNames.Column(user, "Id")} = $1
            """;
    }
}
