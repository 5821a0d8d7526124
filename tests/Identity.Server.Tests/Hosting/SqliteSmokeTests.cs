using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>The embedded default (what <c>dotnet run</c> uses) must keep booting and migrating.</summary>
public sealed class SqliteSmokeTests
{
    [Fact]
    public async Task EmbeddedSqlite_BootsMigratesAndIsReady()
    {
        var directory = Directory.CreateTempSubdirectory("identity-smoke");
        try
        {
            await using var server = new ConfiguredServer(new Dictionary<string, string?>
            {
                ["Database:Provider"] = "Sqlite",
                ["ConnectionStrings:Identity"] = $"Data Source={Path.Combine(directory.FullName, "identity.db")}",
                ["Identity:Issuer"] = "https://localhost/",
            });
            var http = server.CreateClient();

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
