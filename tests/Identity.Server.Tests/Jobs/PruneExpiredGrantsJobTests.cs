using System.Collections.Concurrent;
using Identity.Server.Jobs;
using OpenIddict.EntityFrameworkCore.Models;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Identity.Server.Tests.Jobs;

[Collection(ServerCollection.Name)]
public sealed class PruneExpiredGrantsJobTests(ServerFixture server)
{
    [Fact]
    public async Task Prune_RemovesOnlyWhatIsPastTheRetentionAge()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time).WithWebHostBuilder(b => b.UseSetting("Jobs:Prune:BatchSize", "2"));
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, old, recent) = (await data.ClientAsync(), await data.UserAsync(), await data.UserAsync());
        var oldTokens = await protocol.PasswordGrantAsync(client, old);
        await protocol.RefreshAsync(client, oldTokens.RefreshToken!);

        time.Advance(TimeSpan.FromDays(22)); // the old session's refresh tokens expired 15 days ago
        var recentTokens = await protocol.PasswordGrantAsync(client, recent);
        time.Advance(TimeSpan.FromDays(1));
        var result = await RunAsync(host);

        // Two access and two refresh tokens of the old session, in batches of two; other tests' old rows may go too.
        Assert.True(result.Tokens >= 4, $"{result.Tokens} tokens");
        Assert.True(result.Authorizations >= 1, $"{result.Authorizations} authorizations");
        Assert.Empty(await data.TokensAsync(old.Id));
        Assert.Equal(0, await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreAuthorization<Guid>>().CountAsync(a => a.Subject == old.Id)));
        Assert.Equal(2, (await data.TokensAsync(recent.Id)).Count);
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, oldTokens.RefreshToken!)).Error);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await protocol.RefreshAsync(client, recentTokens.RefreshToken!)).Status);
    }

    [Fact]
    public async Task Prune_WaitsForRowsAnotherTransactionHolds_PastTheStatementTimeout()
    {
        // Requests' statements time out after seconds (a silent database answers 503 soon); the prune's deletes, over
        // large tables and behind other transactions' locks, must not be cut off with them, or expired rows pile up.
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time).WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Identity"] = server.ConnectionString + ";Command Timeout=1" })));
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await protocol.PasswordGrantAsync(client, user);
        time.Advance(TimeSpan.FromDays(23));

        await using var holder = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("""SELECT 1 FROM "OpenIddictTokens" WHERE "Subject" = @subject FOR UPDATE""", holder, transaction))
        {
            hold.Parameters.AddWithValue("subject", user.Id);
            await hold.ExecuteNonQueryAsync();
        }
        var pruning = RunAsync(host);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(pruning.IsCompleted, pruning.Exception?.ToString());
        await transaction.CommitAsync();

        await pruning;
        Assert.Empty(await data.TokensAsync(user.Id));
    }

    [Fact]
    public async Task RedeemedTokens_StayForReuseDetection_WithinTheRetentionAge()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        var second = await protocol.RefreshAsync(client, first.RefreshToken!);

        time.Advance(TimeSpan.FromDays(2));
        await RunAsync(host);

        // The redeemed first token is still known, so presenting it is recognised as reuse and ends the session.
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, second.RefreshToken!)).Error);
    }

    [Fact]
    public async Task RetentionAge_IsTheConfiguredOne()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time).WithWebHostBuilder(b => b.UseSetting("Jobs:Prune:RetentionAge", "00:00:00"));
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await protocol.PasswordGrantAsync(client, user);

        time.Advance(TimeSpan.FromHours(2)); // past the access token's hour, well within the refresh token's life
        await RunAsync(host);

        // With the default 14 days the expired access token would stay; with no retention it goes at once.
        var left = await data.TokensAsync(user.Id);
        Assert.Equal([TokenRow.RefreshToken], left.Select(r => r.Type));
    }

    [Fact]
    public async Task TwoNodes_EachScheduledRunHappensOnOneNode()
    {
        // A database of their own: the scheduler cluster is every node on one database.
        var database = await server.Postgres.CreateDatabaseAsync("cluster");
        var log = new LogRecorder();
        var runs = new ConcurrentQueue<(string Node, DateTimeOffset Scheduled)>();
        var settings = new Dictionary<string, string?>
        {
            ["Jobs:Prune:Enabled"] = "true",
            ["Jobs:Prune:Interval"] = "00:00:01",
            ["Jobs:Prune:FirstRunDelay"] = "00:00:00",
        };
        DateTimeOffset since;
        await using (var a = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings).WithWebHostBuilder(log.For("a")))
        await using (var b = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings).WithWebHostBuilder(log.For("b")))
        {
            _ = (a.Server, b.Server);
            await Eventually.TrueAsync(() => Task.FromResult(log.Entries.Count(e => e.EventId.Id == 5002) >= 2), 100, TimeSpan.FromMilliseconds(100));
            foreach (var (name, node) in new[] { ("a", a), ("b", b) })
            {
                var scheduler = await node.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
                scheduler.ListenerManager.AddJobListener(new RecordRuns(name, runs),
                    [Matchers.Key(new JobKey(nameof(PruneExpiredGrantsJob)))]);
            }
            // Each node declares the schedule as it starts (B's declaration may fire once more at once), so count
            // from when both schedulers are running and both are watched.
            since = DateTimeOffset.UtcNow.AddMilliseconds(1500);
            await Eventually.TrueAsync(() => Task.FromResult(runs.Count(r => r.Scheduled >= since) >= 5), 100, TimeSpan.FromMilliseconds(100));
        }

        // Both nodes schedule the prune every second. With their own schedulers each would run it on its own grid,
        // started when it started: two runs less than a second apart. Clustered there is one trigger, and each of its
        // firings runs once, on whichever node acquired it. Scheduled times, not wall-clock ones: a run the load
        // made late is still its own firing.
        var scheduled = runs.Where(r => r.Scheduled >= since).OrderBy(r => r.Scheduled).ToList();
        Assert.True(scheduled.Count >= 5, $"{scheduled.Count} runs");
        var gaps = scheduled.Zip(scheduled.Skip(1), (x, y) => (y.Scheduled - x.Scheduled).TotalMilliseconds).ToList();
        Assert.All(gaps, gap => Assert.True(gap >= 1000, $"runs scheduled {gap:F0} ms apart: {string.Join(", ", scheduled.Select(r => $"{r.Node}@{r.Scheduled:ss.fff}"))}"));
        Assert.Equal(2, log.Entries.Count(e => e.EventId.Id == 5002)); // both schedulers started
    }

    /// <summary>Which node ran the prune, for which of the trigger's firings.</summary>
    private sealed class RecordRuns(string node, ConcurrentQueue<(string Node, DateTimeOffset Scheduled)> runs) : IJobListener
    {
        public string Name => $"record-runs-{node}";

        public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken ct)
        {
            runs.Enqueue((node, context.ScheduledFireTimeUtc!.Value));
            return ValueTask.CompletedTask;
        }

        public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken ct) => ValueTask.CompletedTask;

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? exception, CancellationToken ct) => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task PruneDisabled_RemovesTheScheduleAnEarlierStartStored()
    {
        var database = await server.Postgres.CreateDatabaseAsync("cluster_off");
        var connection = server.Postgres.ConnectionString(database);
        var on = new Dictionary<string, string?> { ["Jobs:Prune:Enabled"] = "true" };
        await using (var first = ConfiguredServer.OnPostgres(connection, on).WithWebHostBuilder(_ => { }))
        {
            _ = first.Server;
            await WaitForStoredPruneJobAsync(connection, expected: 1);
        }
        await using var second = ConfiguredServer.OnPostgres(connection); // Jobs:Prune:Enabled=false
        _ = second.Server;
        await WaitForStoredPruneJobAsync(connection, expected: 0);
    }

    private static async Task WaitForStoredPruneJobAsync(string connectionString, long expected)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        long count = -1;
        await Eventually.TrueAsync(async () =>
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM qrtz_job_details WHERE job_name = 'PruneExpiredGrantsJob'", connection);
            try { count = (long)(await command.ExecuteScalarAsync())!; } catch (Npgsql.PostgresException) { /* not migrated yet */ }
            return count == expected;
        }, 100, TimeSpan.FromMilliseconds(100));
        Assert.Equal(expected, count);
    }

    private static async Task<PruneResult> RunAsync(WebApplicationFactory<Program> host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);
    }
}
