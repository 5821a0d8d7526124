using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>The token store's hot lookups, which read the token with its authorization and its person in one statement.</summary>
[Collection(ServerCollection.Name)]
public sealed class TokenQueriesTests(ServerFixture server)
{
    [Theory]
    [InlineData("Id", "'00000000-0000-0000-0000-000000000000'::uuid")]
    [InlineData("ReferenceId", "'x'")]
    public async Task OnANewDeploymentsEmptyTables_EveryJoinIsPlannedAsAnIndexLookup(string key, string value)
    {
        // A new database, never analyzed, and the plan PostgreSQL may keep for the prepared statement from then on: a
        // scan of a table here would be repeated on every request while the table grows, until autovacuum analyzes it.
        var database = await server.Postgres.CreateDatabaseAsync($"lookup_plan_{key.ToLowerInvariant()}");
        var connectionString = server.Postgres.ConnectionString(database);
        string statement;
        await using (var node = ConfiguredServer.OnPostgres(connectionString))
        await using (var scope = node.Services.CreateAsyncScope())
            statement = TokenQueries.Statement(scope.ServiceProvider.GetRequiredService<ServerDbContext>(), key);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var generic = new NpgsqlCommand("SET plan_cache_mode = force_generic_plan", connection)) await generic.ExecuteNonQueryAsync();
        var plan = await QueryPlans.ExplainAsync(connection, statement, value);

        var scans = plan.Where(line => line.Contains("Scan on") || line.Contains("Scan using")).ToList();
        Assert.True(scans.Count == 3 && scans.All(line => line.Contains("Index Scan using") || line.Contains("Index Only Scan using")), string.Join("\n", plan));
        Assert.Contains(scans, line => line.Contains("\"AspNetUsers\""));
    }
}
