using System.Data.Common;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Persistence;

/// <summary>
/// Applies the versioned SQL scripts in Migrations/{provider}/ (embedded) in order, recording each in
/// <c>__SchemaMigrations</c>. EF's design-time package is unavailable here, so migrations are SQL written from
/// <c>schema</c>'s output; SchemaDriftTests proves the scripts still produce the model.
/// </summary>
internal sealed class DatabaseMigrator(ServerDbContext db, ILogger<DatabaseMigrator> logger)
{
    internal const string HistoryTable = "__SchemaMigrations";
    // Any fixed number: it names the advisory lock that serialises nodes migrating at the same moment.
    private const long PostgresLockKey = 7_262_013_001;

    /// <summary>The versions this build ships, in order: names only, since the readiness probe asks on every call.</summary>
    public static IReadOnlyList<string> Versions(DatabaseProvider provider) =>
        ResourceNames(provider).Select(name => Path.GetFileNameWithoutExtension(name)).ToList();

    public static IReadOnlyList<(string Version, string Sql)> Scripts(DatabaseProvider provider) =>
        ResourceNames(provider).Select(name => (Path.GetFileNameWithoutExtension(name), QuartzSchema.Expand(Read(name)))).ToList();

    private static IEnumerable<string> ResourceNames(DatabaseProvider provider)
    {
        var prefix = $"migrations/{provider}/";
        return Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Select(name => name.Replace('\\', '/'))
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
    }

    private DatabaseProvider Provider => db.Database.IsNpgsql() ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite;

    public async Task MigrateAsync(CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (Provider == DatabaseProvider.Postgres)
                await ExecuteAsync(connection, $"SELECT pg_advisory_lock({PostgresLockKey})", ct);
            else
                await ExecuteAsync(connection, "PRAGMA journal_mode=WAL", ct);
            await ExecuteAsync(connection, $"""CREATE TABLE IF NOT EXISTS "{HistoryTable}" ("Version" varchar(150) PRIMARY KEY, "AppliedAt" varchar(40) NOT NULL)""", ct);

            var applied = await AppliedAsync(connection, ct);
            foreach (var (version, sql) in Scripts(Provider).Where(s => !applied.Contains(s.Version)))
            {
                // SQLite's BEGIN IMMEDIATE takes the write lock, so a second process waits here instead of racing.
                await using var transaction = await connection.BeginTransactionAsync(ct);
                if (!(await AppliedAsync(connection, ct, transaction)).Contains(version))
                {
                    await ExecuteAsync(connection, sql, ct, transaction);
                    await using var record = connection.CreateCommand();
                    record.Transaction = transaction;
                    record.CommandText = $"""INSERT INTO "{HistoryTable}" ("Version", "AppliedAt") VALUES (@version, @at)""";
                    AddParameter(record, "@version", version);
                    AddParameter(record, "@at", DateTimeOffset.UtcNow.ToString("O"));
                    await record.ExecuteNonQueryAsync(ct);
                    logger.MigrationApplied(version);
                }
                await transaction.CommitAsync(ct);
            }
        }
        finally
        {
            if (Provider == DatabaseProvider.Postgres)
                await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({PostgresLockKey})", CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The versions not yet applied; every one when the history table does not exist.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var exists = Provider == DatabaseProvider.Postgres
                ? $"SELECT count(*) FROM information_schema.tables WHERE table_name = '{HistoryTable}'"
                : $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{HistoryTable}'";
            await using var command = connection.CreateCommand();
            command.CommandText = exists;
            var applied = Convert.ToInt64(await command.ExecuteScalarAsync(ct)) == 0 ? [] : await AppliedAsync(connection, ct);
            return Versions(Provider).Where(v => !applied.Contains(v)).ToList();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<HashSet<string>> AppliedAsync(DbConnection connection, CancellationToken ct, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""SELECT "Version" FROM "{HistoryTable}" """;
        var versions = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) versions.Add(reader.GetString(0));
        return versions;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken ct, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Missing migration resource {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
