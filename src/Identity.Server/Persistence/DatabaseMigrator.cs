using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Identity.Server.Persistence;

/// <summary>
/// Applies the EF Core migrations of the configured provider (Migrations/Postgres or Migrations/Sqlite). Nodes starting
/// at the same moment apply each migration once: on PostgreSQL they queue on an advisory lock (EF Core's own lock let
/// two of four racing nodes apply the same migration), on SQLite on the database's write lock.
/// </summary>
internal sealed class DatabaseMigrator(ServerDbContext db, ILogger<DatabaseMigrator> logger)
{
    // Any fixed number: it names the advisory lock that serialises nodes migrating or seeding at the same moment.
    private const long PostgresLockKey = 7_262_013_001;

    public async Task MigrateAsync(CancellationToken ct)
    {
        PersistenceRegistration.LongWork(db);
        await OneNodeAtATimeAsync(async () =>
        {
            // WAL lets readers go on while a writer commits: the embedded database serves requests and jobs at once.
            if (!db.Database.IsNpgsql()) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL", ct);
            var pending = await PendingAsync(ct);
            // EF Core's own first look at a new database reads the history table before creating it, and logs the
            // failed read as an error; created first (idempotent), there is nothing to fail.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);
            await db.Database.MigrateAsync(ct);
            foreach (var migration in pending) logger.MigrationApplied(migration);
        }, ct);
    }

    /// <summary>
    /// Runs a node's start-up writes (migrating, seeding) while no other node does, on one connection kept open. On
    /// PostgreSQL nodes queue on an advisory lock: EF Core's own migration lock let two of four racing nodes apply the
    /// same migration, and nodes finding the migrations applied at the same moment raced their seeders for the same new
    /// rows (the loser's insert was absorbed, but EF Core logged the failed statement as an error). SQLite's writers queue
    /// on the database's write lock.
    /// </summary>
    public async Task OneNodeAtATimeAsync(Func<Task> work, CancellationToken ct)
    {
        // The advisory lock belongs to the session: kept open until it is released, whatever the work does with the context.
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (!db.Database.IsNpgsql())
            {
                await work();
                return;
            }
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({PostgresLockKey})", ct);
            try
            {
                await work();
            }
            finally
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({PostgresLockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The migrations this build ships that the database has not applied; all of them on an empty database.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken ct)
    {
        if (!await HistoryExistsAsync(ct)) return db.Database.GetMigrations().ToList();
        return (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
    }

    /// <summary>
    /// Npgsql's provider finds out whether the history table exists by reading it and catching the failure, which EF
    /// Core logs as an error: on a database not migrated yet, one per readiness probe. <c>to_regclass</c> resolves the
    /// name as that read would (through <c>search_path</c>) and answers null instead of failing. SQLite's provider
    /// asks its catalog already.
    /// </summary>
    private async Task<bool> HistoryExistsAsync(CancellationToken ct) => !db.Database.IsNpgsql()
        || await db.Database.SqlQueryRaw<bool>($"SELECT to_regclass('\"{HistoryRepository.DefaultTableName}\"') IS NOT NULL AS \"Value\"").SingleAsync(ct);
}
