using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

[Collection(ServerCollection.Name)]
public sealed class HealthTests(ServerFixture server)
{
    [Fact]
    public async Task Live_AnswersOk()
    {
        var response = await server.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_OnMigratedPostgres_AnswersOk()
    {
        var response = await server.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_WithMigrationsPending_Answers503()
    {
        var name = await server.Postgres.CreateDatabaseAsync("pending");
        try
        {
            await using var unmigrated = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(name),
                new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" });
            var http = unmigrated.CreateClient();

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            await server.Postgres.DropDatabaseAsync(name);
        }
    }
}
