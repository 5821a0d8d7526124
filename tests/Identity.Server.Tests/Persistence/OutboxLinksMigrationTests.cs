using Identity.Server.Persistence;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Identity.Server.Tests.Persistence;

/// <summary>
/// Upgrading clears the bodies of messages already sent or refused for good: written before links were kept out of the
/// outbox, they hold working one-time tokens until the prune. Messages still to be sent keep theirs.
/// </summary>
public sealed class OutboxLinksMigrationTests
{
    [Fact]
    public async Task Postgres_ClearsTheBodiesOfMessagesDoneWith()
    {
        var postgres = await TestPostgres.GetAsync();
        var name = await postgres.CreateDatabaseAsync("outbox_links");
        try
        {
            await using var db = SchemaDriftTests.Postgres(postgres.ConnectionString(name));
            await AssertUpgradeClearsDoneBodiesAsync(db);
        }
        finally
        {
            await postgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task Sqlite_ClearsTheBodiesOfMessagesDoneWith()
    {
        var file = Path.Combine(Path.GetTempPath(), $"outbox-links-{Guid.NewGuid():N}.db");
        try
        {
            await using var db = SchemaDriftTests.Sqlite($"Data Source={file};Pooling=false");
            await AssertUpgradeClearsDoneBodiesAsync(db);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task AssertUpgradeClearsDoneBodiesAsync(ServerDbContext db)
    {
        var migrations = db.Database.GetMigrations().ToList();
        var upgrade = migrations.Single(m => m.EndsWith("_OutboxLinks", StringComparison.Ordinal));
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(migrations[migrations.IndexOf(upgrade) - 1]);
        // The instants as each provider stores them (SQLite: Unix milliseconds, STYLE §5), through parameters.
        object At(DateTimeOffset instant) => db.Database.IsSqlite() ? instant.ToUnixTimeMilliseconds() : instant;
        var now = DateTimeOffset.UtcNow;
        var (sent, failed, waiting) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        object Key(Guid id) => db.Database.IsSqlite() ? id.ToString().ToUpperInvariant() : id;
        foreach (var id in new[] { sent, failed, waiting })
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO "OutboxMessages" ("Id", "To", "Subject", "TextBody", "HtmlBody", "CreatedAt", "NextAttemptAt", "Attempts")
                VALUES ({0}, 'a@example.test', 'Reset your password', 'token-in-text', 'token-in-html', {1}, {1}, 1)
                """, Key(id), At(now));
        await db.Database.ExecuteSqlRawAsync("""UPDATE "OutboxMessages" SET "SentAt" = {0} WHERE "Id" = {1}""", At(now), Key(sent));
        await db.Database.ExecuteSqlRawAsync("""UPDATE "OutboxMessages" SET "FailedAt" = {0} WHERE "Id" = {1}""", At(now), Key(failed));

        await migrator.MigrateAsync();

        var rows = await db.OutboxMessages.AsNoTracking().ToDictionaryAsync(m => m.Id);
        // Empty on SQLite, where the update runs before EF Core's rebuild of the table lifts NOT NULL.
        Assert.All(new[] { rows[sent].TextBody, rows[sent].HtmlBody, rows[failed].TextBody, rows[failed].HtmlBody }, body => Assert.True(string.IsNullOrEmpty(body)));
        Assert.Equal("token-in-text", rows[waiting].TextBody); // still to be sent: its link is needed
        Assert.Equal("Reset your password", rows[sent].Subject);
    }
}
