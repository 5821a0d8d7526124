using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Hosting;

/// <summary>The embedded default (what <c>dotnet run</c> uses) must keep booting, migrating and issuing tokens.</summary>
public sealed class SqliteSmokeTests : IAsyncLifetime
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("identity-smoke");
    private ConfiguredServer server = null!;

    public Task InitializeAsync()
    {
        server = new ConfiguredServer(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["ConnectionStrings:Identity"] = $"Data Source={Path.Combine(directory.FullName, "identity.db")}",
            ["Identity:Issuer"] = "https://localhost/",
            ["Identity:Scopes:0:Name"] = TestData.ApiScope,
            ["Identity:Scopes:0:Resources:0"] = TestData.ApiResource,
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Delete(recursive: true);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=identity;Mode=Memory;Cache=Shared")]
    public async Task AnEmptyOrInMemoryDatabase_StopsStartUp_NamingTheKey(string connectionString)
    {
        // Each connection would get a new, empty database: the server started and was never ready.
        await using var memory = new ConfiguredServer(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite", ["ConnectionStrings:Identity"] = connectionString, ["Identity:Issuer"] = "https://localhost/",
        });
        Assert.Contains("ConnectionStrings:Identity", StartUpFailure.Of(memory));
    }

    [Fact]
    public async Task EmbeddedSqlite_BootsMigratesAndIsReady()
    {
        var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task EmbeddedSqlite_TellsADeviceThatPollsTooFastToSlowDown()
    {
        // The first poll's record is a raw insert (ON CONFLICT DO NOTHING), which SQLite must take as PostgreSQL does.
        var client = await new TestData(server).ClientAsync(grants: [DeviceFlow.GrantType], isPublic: true, scopes: ["openid"]);
        var device = new ProtocolClient(server.CreateClient());
        var started = await DeviceFlow.StartAsync(device, client, "openid");

        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(device, client, started.DeviceCode)));
        Assert.Equal("slow_down", DeviceFlow.Error(await DeviceFlow.PollAsync(device, client, started.DeviceCode)));
        // Stored as the model stores it: read back through EF Core, the instants are this minute's and the next's.
        await using var scope = server.Services.CreateAsyncScope();
        var poll = Assert.Single(await scope.ServiceProvider.GetRequiredService<Identity.Server.Persistence.ServerDbContext>()
            .Set<Identity.Server.Protocol.Device.DevicePoll>().AsNoTracking().ToListAsync());
        Assert.InRange(poll.LastPolledAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.InRange(poll.ExpiresAt, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task EmbeddedSqlite_RunsEveryGrant()
    {
        var data = new TestData(server);
        var protocol = new ProtocolClient(server.CreateClient());
        var (client, machine, user) = (await data.ClientAsync(), await data.ClientAsync(grants: ["client_credentials"]), await data.UserAsync());

        Assert.Equal(HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(machine, TestData.ApiScope)).Status);
        var first = await protocol.PasswordGrantAsync(client, user);
        Assert.Equal(HttpStatusCode.OK, first.Status);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => protocol.RefreshAsync(client, first.RefreshToken!)));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Single(concurrent.Select(r => r.RefreshToken).Distinct());
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(client, concurrent[0].RefreshToken!)).Status);
        Assert.Equal("invalid_grant", (await protocol.PasswordGrantAsync(client, user with { Password = "wrong" })).Error);
    }

    [Fact]
    public async Task EmbeddedSqlite_ARemoveClientVerbRunBesideTheServer_TakesEffectAtOnce()
    {
        // SQLite has no change notices between processes, so the server keeps no copy of a client that the verb's process
        // could leave stale: the removed client went on authenticating, and its token writes failed with a 500.
        var machine = await new TestData(server).ClientAsync(grants: ["client_credentials"], allowIntrospection: true);
        var protocol = new ProtocolClient(server.CreateClient());
        var issued = await protocol.ClientCredentialsAsync(machine, TestData.ApiScope);
        Assert.Equal(HttpStatusCode.OK, issued.Status);

        var (exitCode, output) = await ServerVerb.RunAsync("Sqlite", $"Data Source={Path.Combine(directory.FullName, "identity.db")}",
            "remove-client", machine.ClientId);

        Assert.True(exitCode == 0, output);
        Assert.Equal(HttpStatusCode.Unauthorized, (await protocol.IntrospectAsync(machine, issued.AccessToken!)).Status);
        var refused = await protocol.ClientCredentialsAsync(machine, TestData.ApiScope);
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (refused.Status, refused.Error));
    }
}
