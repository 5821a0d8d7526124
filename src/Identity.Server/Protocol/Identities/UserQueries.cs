using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Protocol.Identities;

/// <summary>
/// The read of the person behind every refresh, code redemption and userinfo request, untracked (nothing here writes
/// the person). On PostgreSQL it is a statement of ours (<see cref="SingleRowRead"/>); elsewhere an EF compiled query:
/// <c>UserManager.FindByIdAsync</c> goes through EF Core's <c>FindAsync</c>, which builds and funcletizes a query on
/// every call, and so does a LINQ query written inline. Made once per host, like <see cref="TokenQueries"/>.
/// </summary>
internal sealed class UserQueries(IOptions<DatabaseOptions> database, MultiplexedReads shared)
{
    private static readonly string[] Columns = ["Id", "UserName", "NormalizedUserName", "Email", "NormalizedEmail", "EmailConfirmed", "PasswordHash",
        "SecurityStamp", "ConcurrencyStamp", "PhoneNumber", "PhoneNumberConfirmed", "TwoFactorEnabled", "LockoutEnd", "LockoutEnabled",
        "AccessFailedCount", "FirstName", "LastName", "CreatedAt", "UpdatedAt"];

    private readonly Func<DbContext, string, Task<ApplicationUser?>> compiledById =
        EF.CompileAsyncQuery((DbContext db, string id) => db.Set<ApplicationUser>().AsNoTracking().FirstOrDefault(u => u.Id == id));

    private string? statement;

    public Task<ApplicationUser?> ById(DbContext db, string id, CancellationToken ct) =>
        database.Value.Provider == DatabaseProvider.Postgres ? SingleRowRead.ReadAsync(db, shared, statement ??= Statement(db), id, Read, ct) : compiledById(db, id);

    private static ApplicationUser Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetString(0),
        UserName = reader.TextOrNull(1),
        NormalizedUserName = reader.TextOrNull(2),
        Email = reader.TextOrNull(3),
        NormalizedEmail = reader.TextOrNull(4),
        EmailConfirmed = reader.GetBoolean(5),
        PasswordHash = reader.TextOrNull(6),
        SecurityStamp = reader.TextOrNull(7),
        ConcurrencyStamp = reader.TextOrNull(8),
        PhoneNumber = reader.TextOrNull(9),
        PhoneNumberConfirmed = reader.GetBoolean(10),
        TwoFactorEnabled = reader.GetBoolean(11),
        LockoutEnd = reader.OffsetOrNull(12),
        LockoutEnabled = reader.GetBoolean(13),
        AccessFailedCount = reader.GetInt32(14),
        FirstName = reader.TextOrNull(15),
        LastName = reader.TextOrNull(16),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(17),
        UpdatedAt = reader.GetFieldValue<DateTimeOffset>(18),
    };

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
