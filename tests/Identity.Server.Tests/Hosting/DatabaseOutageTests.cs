using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Identity.Server.Tests.Infrastructure;
using Npgsql;

namespace Identity.Server.Tests.Hosting;

/// <summary>SPEC §6: with the database gone the server answers 503 within seconds and recovers by itself.</summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private PostgresCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await PostgresCluster.StartAsync();
    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task DatabaseStopsAndReturns_ServerAnswers503ThenRecovers()
    {
        await cluster.CreateDatabaseAsync("identity");
        await using var server = ConfiguredServer.OnPostgres(cluster.ConnectionString("identity"));
        var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"], scopes: []);
        // Tokens are written before the outage, so the writer's connection is one the outage breaks.
        Assert.Equal(HttpStatusCode.OK, (await new ProtocolClient(http).ClientCredentialsAsync(client)).Status);

        await cluster.StopServerAsync();
        var clock = Stopwatch.StartNew();
        var down = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        var token = await new ProtocolClient(http).ClientCredentialsAsync(new TestClient("client-" + Guid.NewGuid(), "secret"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, token.Status);
        Assert.Equal("temporarily_unavailable", token.Error);
        Assert.NotNull(token.Response.Headers.RetryAfter);
        var register = await http.PostAsJsonAsync("/api/account/register", new { email = "outage@example.test", password = "a passphrase for the outage" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, register.StatusCode);
        Assert.Equal("application/problem+json", register.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(register.Headers.RetryAfter);

        await cluster.StartServerAsync();
        Assert.True(await Eventually.TrueAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK,
                60, TimeSpan.FromMilliseconds(250)),
            "the server did not recover after the database came back");
        Assert.True(await Eventually.TrueAsync(async () => (await new ProtocolClient(http).ClientCredentialsAsync(client)).Status == HttpStatusCode.OK,
                20, TimeSpan.FromMilliseconds(250)),
            "tokens were not issued again after the database came back");
    }

    [Fact]
    public async Task ADatabaseThatStopsAnswering_Is503WithinSeconds_ThenRecovers()
    {
        // A frozen host or a partition: open connections stay open and nothing answers, where a stopped server refuses
        // at once. The first token requests waited 30 s for their 503 (two statement timeouts of 15 s, the second in a
        // retry of the token rows), which is also when oauth4webapi and openid-client give up by default; and a batch of
        // token rows failed one request at a time, each waiting for the database again.
        await cluster.CreateDatabaseAsync("frozen");
        await using var server = ConfiguredServer.OnPostgres(cluster.ConnectionString("frozen"));
        var http = server.CreateClient();
        var protocol = new ProtocolClient(http);
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"], scopes: []);
        Assert.Equal(HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(client)).Status); // the token rows' connection is open

        await cluster.FreezeAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            var tokens = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => protocol.ClientCredentialsAsync(client)));
            var tokensTook = clock.Elapsed;
            clock.Restart();
            var register = await http.PostAsJsonAsync("/api/account/register", new { email = "frozen@example.test", password = "a passphrase for the freeze" });
            var registerTook = clock.Elapsed;

            Assert.All(tokens, t => Assert.Equal((HttpStatusCode.ServiceUnavailable, "temporarily_unavailable"), (t.Status, t.Error)));
            Assert.All(tokens, t => Assert.NotNull(t.Response.Headers.RetryAfter));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, register.StatusCode);
            // SPEC §6, "within seconds": a statement's 5 s and the connection timeout of the cancellation Npgsql sends
            // for it (3 s in these tests), once.
            Assert.True(tokensTook < TimeSpan.FromSeconds(10), $"token requests took {tokensTook}");
            Assert.True(registerTook < TimeSpan.FromSeconds(10), $"registration took {registerTook}");
        }
        finally
        {
            await cluster.ThawAsync();
        }
        Assert.True(await Eventually.TrueAsync(async () => (await protocol.ClientCredentialsAsync(client)).Status == HttpStatusCode.OK,
                60, TimeSpan.FromMilliseconds(250)),
            "tokens were not issued again after the database answered again");
    }

    [Fact]
    public async Task ADatabaseThatRefusesWrites_Is503_NotA500()
    {
        // A standby until a failover promotes it, or a database set read-only for maintenance: the client retries.
        await cluster.CreateDatabaseAsync("readonly");
        await using var server = ConfiguredServer.OnPostgres(cluster.ConnectionString("readonly"));
        var http = server.CreateClient();
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"], scopes: []);
        Assert.Equal(HttpStatusCode.OK, (await new ProtocolClient(http).ClientCredentialsAsync(client)).Status);
        await SetReadOnlyAsync(true);

        var register = await http.PostAsJsonAsync("/api/account/register", new { email = "standby@example.test", password = "a passphrase for the standby" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, register.StatusCode);
        Assert.Equal("application/problem+json", register.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(register.Headers.RetryAfter);
        var token = await new ProtocolClient(http).ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, token.Status);
        Assert.Equal("temporarily_unavailable", token.Error);

        // Promoted: writes are accepted again, and the server takes them up by itself (and its jobs can stop cleanly).
        await SetReadOnlyAsync(false);
        Assert.True(await Eventually.TrueAsync(async () => (await new ProtocolClient(http).ClientCredentialsAsync(client)).Status == HttpStatusCode.OK,
                40, TimeSpan.FromMilliseconds(250)),
            "tokens were not issued again once the database accepted writes");
    }

    private async Task SetReadOnlyAsync(bool readOnly)
    {
        await using var admin = new NpgsqlConnection(cluster.ConnectionString());
        await admin.OpenAsync();
        await using var set = new NpgsqlCommand($"ALTER DATABASE readonly SET default_transaction_read_only = {(readOnly ? "on" : "off")}", admin);
        await set.ExecuteNonQueryAsync();
        // As a failover does: the server's open sessions end, and the ones it opens next take the setting.
        await using var ended = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'readonly'", admin);
        await ended.ExecuteNonQueryAsync();
    }
}
