using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Identity.Server.Protocol.Token.Rotation;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>The group writer of new token rows: rows of concurrent sign-ins share a statement, not a fate.</summary>
[Collection(ServerCollection.Name)]
public sealed class TokenRowWriterTests(ServerFixture server)
{
    [Fact]
    public async Task TheWritersConnection_UsesOneGenericPlan_AndKeepsTheOperatorsOptions()
    {
        var configured = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Options = "-c work_mem=8MB" };

        await using var connection = new NpgsqlConnection(TokenRowWriter.ConnectionString(configured.ConnectionString));
        await connection.OpenAsync();

        Assert.Equal("force_generic_plan", await ShowAsync(connection, "plan_cache_mode"));
        Assert.Equal("8MB", await ShowAsync(connection, "work_mem"));
        // The main pool's connections keep PostgreSQL's default.
        await using var main = new NpgsqlConnection(PersistenceRegistration.Tuned(configured.ConnectionString));
        await main.OpenAsync();
        Assert.Equal("auto", await ShowAsync(main, "plan_cache_mode"));
    }

    [Fact]
    public async Task OnANewDeploymentsEmptyTable_TheRedemptionIsPlannedAsPrimaryKeyLookups()
    {
        // A new database, never analyzed: the statistics every new deployment starts from, and its writer's plan with them.
        var database = await server.Postgres.CreateDatabaseAsync("writer_plan");
        var connectionString = server.Postgres.ConnectionString(database);
        string statement;
        await using (var node = ConfiguredServer.OnPostgres(connectionString))
        await using (var scope = node.Services.CreateAsyncScope())
            statement = TokenRowWriter.Statement(scope.ServiceProvider.GetRequiredService<ServerDbContext>());

        await using var connection = new NpgsqlConnection(TokenRowWriter.ConnectionString(connectionString));
        await connection.OpenAsync();
        var plan = await QueryPlans.ExplainAsync(connection, statement, string.Join(", ", Enumerable.Repeat("NULL", 20)));

        // Anything else reads every valid token of the table for every batch, and the table grows until autovacuum
        // first analyzes it.
        var tokenScans = plan.Where(line => line.Contains("Scan") && line.Contains("OpenIddictTokens")).ToList();
        Assert.True(tokenScans is [var only] && only.Contains("Index Scan using \"PK_OpenIddictTokens\""), string.Join("\n", plan));
    }

    private static async Task<string?> ShowAsync(NpgsqlConnection connection, string setting)
    {
        await using var command = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string?)await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task ARowThatCannotBeWritten_FailsOnlyItsOwnRequest()
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var writer = scope.ServiceProvider.GetRequiredService<TokenRowWriter>();
        var application = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().AsNoTracking().SingleAsync(a => a.ClientId == client.ClientId);
        var good = Enumerable.Range(0, 8).Select(_ => Row(application)).ToList();
        // Refers to a client that does not exist: the foreign key refuses it.
        var bad = Row(new OpenIddictEntityFrameworkCoreApplication<Guid> { Id = Guid.NewGuid() });

        var writes = good.Select(row => writer.WriteAsync([row], db)).Append(writer.WriteAsync([bad], db)).ToList();
        await Assert.ThrowsAnyAsync<Exception>(() => writes[^1]);
        await Task.WhenAll(writes.Take(good.Count));

        var ids = good.Select(r => r.Id).Append(bad.Id).ToList();
        var stored = await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking().Where(t => ids.Contains(t.Id)).Select(t => t.Id).ToListAsync();
        Assert.Equal(good.Select(r => r.Id).Order(), stored.Order());
    }

    [Fact]
    public async Task TwoUsesOfOneRefreshToken_OneRedeemsAndWritesItsRows_TheOtherWritesNothing()
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var writer = scope.ServiceProvider.GetRequiredService<TokenRowWriter>();
        var application = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().AsNoTracking().SingleAsync(a => a.ClientId == client.ClientId);
        var presented = Row(application);
        Assert.True(await writer.WriteAsync([presented], db));
        var (first, second, blocker) = (Row(application), Row(application), Row(application));
        Assert.True(await writer.WriteAsync([blocker], db));
        // Keep the writer busy on a batch that waits for a lock, so that both uses queue up behind it as one batch.
        await using var locking = new NpgsqlConnection(db.Database.GetConnectionString());
        await locking.OpenAsync();
        await using var transaction = await locking.BeginTransactionAsync();
        await new NpgsqlCommand($"SELECT 1 FROM \"OpenIddictTokens\" WHERE \"Id\" = '{blocker.Id}' FOR UPDATE", locking, transaction).ExecuteNonQueryAsync();
        var blocked = writer.WriteAsync([], db, Redeeming(blocker));
        await WaitForALockWaitAsync(locking, transaction);

        var usesWritten = Task.WhenAll(writer.WriteAsync([first], db, Redeeming(presented)), writer.WriteAsync([second], db, Redeeming(presented)));
        await transaction.CommitAsync();
        Assert.True(await blocked);
        var uses = await usesWritten;
        var afterwards = await writer.WriteAsync([Row(application)], db, Redeeming(presented));

        Assert.Equal([false, true], uses.Order());
        Assert.False(afterwards);
        var winner = uses[0] ? first : second;
        var ids = new[] { presented.Id, first.Id, second.Id };
        var stored = await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking().Where(t => ids.Contains(t.Id)).ToListAsync();
        Assert.Equal(new[] { presented.Id, winner.Id }.Order(), stored.Select(t => t.Id).Order());
        Assert.Equal("redeemed", stored.Single(t => t.Id == presented.Id).Status);
        Assert.Single(await db.RefreshTokenSuccessors.AsNoTracking().Where(s => s.TokenId == presented.Id).ToListAsync());
    }

    private static async Task WaitForALockWaitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        for (var i = 0; i < 100; i++)
        {
            var waiting = (long)(await new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", connection, transaction)
                .ExecuteScalarAsync())!;
            if (waiting > 0) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("The writer never waited for the lock.");
    }

    private static RefreshRedemption Redeeming(OpenIddictEntityFrameworkCoreToken<Guid> token) =>
        new(token.Id, DateTimeOffset.UtcNow)
        {
            Successor = new RefreshTokenSuccessor { TokenId = token.Id, Sealed = [1, 2, 3], CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(1) },
        };

    private static OpenIddictEntityFrameworkCoreToken<Guid> Row(OpenIddictEntityFrameworkCoreApplication<Guid> application) => new()
    {
        Id = Guid.NewGuid(),
        Application = application,
        CreationDate = DateTime.UtcNow,
        ExpirationDate = DateTime.UtcNow.AddHours(1),
        Status = "valid",
        Type = "access_token",
    };
}
