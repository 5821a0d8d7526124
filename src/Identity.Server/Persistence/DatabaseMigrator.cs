using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Persistence;

/// <summary>
/// Applies the EF Core migrations of the configured provider (Migrations/Postgres or Migrations/Sqlite). Nodes starting
/// at the same moment apply each migration once: on PostgreSQL they queue on an advisory lock (EF Core's own lock let
/// two of four racing nodes apply the same migration), on SQLite on the database's write lock.
/// </summary>
internal sealed class DatabaseMigrator(ServerDbContext db, ILogger<DatabaseMigrator> logger)
{
    // Any fixed number: it names the advisory lock that serialises nodes migrating at the same moment.
    private const long PostgresLockKey = 7_262_013_001;

    public async Task MigrateAsync(CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (db.Database.IsNpgsql())
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({PostgresLockKey})", ct);
            else
                // WAL lets readers go on while a writer commits: the embedded database serves requests and jobs at once.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL", ct);
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            await db.Database.MigrateAsync(ct);
            foreach (var migration in pending) logger.MigrationApplied(migration);
        }
        finally
        {
            if (db.Database.IsNpgsql())
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({PostgresLockKey})", CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The migrations this build ships that the database has not applied; all of them on an empty database.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken ct) =>
        (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
}
