using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

/// <summary>The lockout's counting statements (Accounts/LockoutCounter) on the embedded default, SQLite, as on PostgreSQL.</summary>
public sealed class SqliteLockoutTests : IAsyncLifetime
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("identity-lockout");
    private ConfiguredServer server = null!;

    public Task InitializeAsync()
    {
        server = new ConfiguredServer(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["ConnectionStrings:Identity"] = $"Data Source={Path.Combine(directory.FullName, "identity.db")}",
            ["Identity:Issuer"] = "https://localhost/",
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Delete(recursive: true);
    }

    [Fact]
    public async Task ConcurrentWrongPasswords_CountEach_AndLock_AndARightPasswordResets()
    {
        var data = new TestData(server);
        var protocol = new ProtocolClient(server.CreateClient());
        var (client, counted, locked) = (await data.ClientAsync(), await data.UserAsync(), await data.UserAsync());

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => protocol.PasswordGrantAsync(client, counted with { Password = $"wrong {i}" })));
        Assert.Equal(4, await data.DbAsync(db => db.Users.Where(u => u.Id == counted.Id).Select(u => u.AccessFailedCount).SingleAsync()));
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, counted)).Status);
        Assert.Equal(0, await data.DbAsync(db => db.Users.Where(u => u.Id == counted.Id).Select(u => u.AccessFailedCount).SingleAsync()));

        var logins = new[] { locked.UserName, locked.Email };
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => protocol.PasswordGrantAsync(client, locked with { UserName = logins[i % 2], Password = $"wrong {i}" })));
        var rightPassword = await protocol.PasswordGrantAsync(client, locked);
        Assert.Equal("invalid_grant", rightPassword.Error);
        Assert.Contains("locked", rightPassword.ErrorDescription, StringComparison.OrdinalIgnoreCase);
    }
}
