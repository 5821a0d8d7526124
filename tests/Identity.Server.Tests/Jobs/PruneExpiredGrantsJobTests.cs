using Identity.Server.Jobs;
using OpenIddict.EntityFrameworkCore.Models;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

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
        List<LogRecorder.Entry> runs;
        var settings = new Dictionary<string, string?>
        {
            ["Jobs:Prune:Enabled"] = "true",
            ["Jobs:Prune:Interval"] = "00:00:01",
            ["Jobs:Prune:FirstRunDelay"] = "00:00:00",
        };
        await using (var a = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings).WithWebHostBuilder(log.For("a")))
        await using (var b = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings).WithWebHostBuilder(log.For("b")))
        {
            _ = (a.Server, b.Server);
            // Each node declares the schedule as it starts (B's declaration may fire once more at once), so count
            // from when both schedulers are running.
            await Eventually.TrueAsync(() => Task.FromResult(log.Entries.Count(e => e.EventId.Id == 5002) >= 2), 100, TimeSpan.FromMilliseconds(100));
            var since = DateTimeOffset.UtcNow.AddMilliseconds(1500);
            await Eventually.TrueAsync(() => Task.FromResult(Runs(log, since).Count >= 5), 100, TimeSpan.FromMilliseconds(100));
            runs = Runs(log, since);
        }

        // Both nodes schedule the prune every second; with their own schedulers they would each run it, within
        // milliseconds of each other. Clustered, each firing runs once, on whichever node acquired it.
        Assert.True(runs.Count >= 5, $"{runs.Count} runs");
        var gaps = runs.Zip(runs.Skip(1), (x, y) => (y.At - x.At).TotalMilliseconds).ToList();
        Assert.All(gaps, gap => Assert.True(gap > 500, $"runs {gap:F0} ms apart: {string.Join(", ", runs.Select(r => $"{r.Node}@{r.At:ss.fff}"))}"));
        Assert.Equal(2, log.Entries.Count(e => e.EventId.Id == 5002)); // both schedulers started
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

    private static List<LogRecorder.Entry> Runs(LogRecorder log, DateTimeOffset since) =>
        log.Entries.Where(e => e.EventId.Id == 5001 && e.At >= since).OrderBy(e => e.At).ToList();

    private static async Task<PruneResult> RunAsync(WebApplicationFactory<Program> host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);
    }
}
