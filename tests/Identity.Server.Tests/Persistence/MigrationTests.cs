using System.Diagnostics;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Identity.Server.Tests.Persistence;

public sealed class MigrationTests
{
    [Fact]
    public async Task TwoNodesMigratingAtOnce_ApplyEachMigrationOnce()
    {
        var postgres = await TestPostgres.GetAsync();
        var name = await postgres.CreateDatabaseAsync("migrate_race");
        try
        {
            var nodes = Enumerable.Range(0, 4).Select(async _ =>
            {
                await using var db = SchemaDriftTests.Postgres(postgres.ConnectionString(name));
                await new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
            });
            await Task.WhenAll(nodes);

            await using var connection = new NpgsqlConnection(postgres.ConnectionString(name));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""SELECT count(*), count(DISTINCT "MigrationId") FROM "__EFMigrationsHistory" """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            await using var db = SchemaDriftTests.Postgres(postgres.ConnectionString(name));
            Assert.Equal(db.Database.GetMigrations().Count(), reader.GetInt64(0));
            Assert.Equal(reader.GetInt64(0), reader.GetInt64(1));
        }
        finally
        {
            await postgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task ANodeWaitingForAnothersMigration_WaitsPastTheStatementTimeout()
    {
        // Statements time out after seconds so that requests to a silent database end in a 503; a node whose migration
        // queues behind another node's, on the lock or on a long migration, must not give up with them.
        var postgres = await TestPostgres.GetAsync();
        var name = await postgres.CreateDatabaseAsync("migrate_wait");
        try
        {
            await using var other = new NpgsqlConnection(postgres.ConnectionString(name));
            await other.OpenAsync();
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(7262013001)", other)) await take.ExecuteNonQueryAsync();

            await using var db = SchemaDriftTests.Postgres(postgres.ConnectionString(name) + ";Command Timeout=1");
            var migrating = new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(migrating.IsCompleted, migrating.Exception?.ToString());
            await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock(7262013001)", other)) await release.ExecuteNonQueryAsync();

            await migrating;
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        }
        finally
        {
            await postgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task MigrateVerb_MigratesAndExits()
    {
        var postgres = await TestPostgres.GetAsync();
        var name = await postgres.CreateDatabaseAsync("migrate_verb");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
            start.ArgumentList.Add("migrate");
            start.Environment["Database__Provider"] = "Postgres";
            start.Environment["ConnectionStrings__Identity"] = postgres.ConnectionString(name);
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, await output + await errors);
            // A new database is the expected case, not an error: nothing of it may be logged as one.
            Assert.DoesNotContain("\"LogLevel\":\"Error\"", await output + await errors);

            await using var db = SchemaDriftTests.Postgres(postgres.ConnectionString(name));
            Assert.Empty(await new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).PendingAsync(CancellationToken.None));
        }
        finally
        {
            await postgres.DropDatabaseAsync(name);
        }
    }
}
