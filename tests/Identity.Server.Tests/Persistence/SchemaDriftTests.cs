using Identity.Server.Persistence;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Identity.Server.Tests.Persistence;

/// <summary>
/// Each provider's migrations must build exactly the schema the EF model expects: a model change without its migration
/// fails here, first as EF Core's own pending-changes check, then table by table, column by column, index by index.
/// </summary>
public sealed class SchemaDriftTests
{
    [Fact]
    public void EveryModelChange_HasItsMigration()
    {
        using (var db = Postgres("Host=unused")) Assert.False(db.Database.HasPendingModelChanges(), "PostgreSQL: run dotnet ef migrations add (docs/development.md).");
        using (var db = Sqlite("Data Source=unused.db")) Assert.False(db.Database.HasPendingModelChanges(), "SQLite: run dotnet ef migrations add (docs/development.md).");
    }

    [Fact]
    public async Task PostgresMigrations_MatchTheModel()
    {
        var postgres = await TestPostgres.GetAsync();
        var migrated = await postgres.CreateDatabaseAsync("drift_migrated");
        var created = await postgres.CreateDatabaseAsync("drift_created");
        try
        {
            await using (var db = Postgres(postgres.ConnectionString(migrated)))
                await new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
            await using (var db = Postgres(postgres.ConnectionString(created)))
                await db.Database.EnsureCreatedAsync();

            await using var fromMigrations = new NpgsqlConnection(postgres.ConnectionString(migrated));
            await using var fromModel = new NpgsqlConnection(postgres.ConnectionString(created));
            AssertSameSchema(await SchemaSnapshot.PostgresAsync(fromModel), await SchemaSnapshot.PostgresAsync(fromMigrations));
        }
        finally
        {
            await postgres.DropDatabaseAsync(migrated);
            await postgres.DropDatabaseAsync(created);
        }
    }

    [Fact]
    public async Task SqliteMigrations_MatchTheModel()
    {
        var directory = Directory.CreateTempSubdirectory("identity-drift");
        try
        {
            var migrated = $"Data Source={Path.Combine(directory.FullName, "migrated.db")};Pooling=false";
            var created = $"Data Source={Path.Combine(directory.FullName, "created.db")};Pooling=false";
            await using (var db = Sqlite(migrated))
                await new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
            await using (var db = Sqlite(created))
                await db.Database.EnsureCreatedAsync();

            await using var fromMigrations = new SqliteConnection(migrated);
            await using var fromModel = new SqliteConnection(created);
            AssertSameSchema(await SchemaSnapshot.SqliteAsync(fromModel), await SchemaSnapshot.SqliteAsync(fromMigrations));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void AssertSameSchema(List<string> expected, List<string> actual)
    {
        Assert.NotEmpty(expected);
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"The migrations do not produce the model's schema; write a migration.\nIn the model only:\n  {string.Join("\n  ", missing)}\nIn the migrations only:\n  {string.Join("\n  ", extra)}");
    }

    internal static ServerDbContext Postgres(string connectionString) =>
        new PostgresServerDbContext(new DbContextOptionsBuilder<PostgresServerDbContext>().UseNpgsql(connectionString).Options);

    internal static ServerDbContext Sqlite(string connectionString) =>
        new SqliteServerDbContext(new DbContextOptionsBuilder<SqliteServerDbContext>().UseSqlite(connectionString).Options);
}
