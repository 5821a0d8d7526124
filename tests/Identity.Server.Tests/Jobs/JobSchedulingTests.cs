using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Identity.Server.Tests.Jobs;

[Collection(ServerCollection.Name)]
public sealed class JobSchedulingTests(ServerFixture server)
{
    [Fact]
    public async Task CleanStop_RemovesOnlyThisNodeFromTheClustersSchedulers()
    {
        // Quartz leaves a stopped node's row in qrtz_scheduler_state, and a peer then logs it as a failed instance
        // ("ClusterManager: detected 1 failed or restarted instances", a Warning) at every rolling deploy. The peer's
        // log cannot be watched here (Quartz's logger factory is process-wide): the row it would find is.
        var database = await server.Postgres.CreateDatabaseAsync("cluster_leave");
        var connection = server.Postgres.ConnectionString(database);
        var log = new LogRecorder();
        var b = ConfiguredServer.OnPostgres(connection).WithWebHostBuilder(log.For("b"));
        try
        {
            string a;
            await using (var nodeA = ConfiguredServer.OnPostgres(connection).WithWebHostBuilder(log.For("a")))
            {
                _ = (nodeA.Server, b.Server);
                await Eventually.TrueAsync(() => Task.FromResult(log.Entries.Count(e => e.EventId.Id == 5002) == 2), 100, TimeSpan.FromMilliseconds(100));
                a = await InstanceIdAsync(nodeA);
                Assert.Equal(new[] { a, await InstanceIdAsync(b) }.Order(), (await SchedulersAsync(connection)).Order());
            }

            Assert.Equal([await InstanceIdAsync(b)], await SchedulersAsync(connection));
            Assert.Contains(log.Entries, e => e.Node == "a" && e.EventId.Id == 5003);
        }
        finally
        {
            await b.DisposeAsync();
        }
        Assert.Empty(await SchedulersAsync(connection));
    }

    private static async Task<string> InstanceIdAsync(WebApplicationFactory<Program> node) =>
        (await node.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).SchedulerInstanceId;

    private static async Task<List<string>> SchedulersAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT instance_name FROM qrtz_scheduler_state", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }
}
