using Npgsql;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the suite uses: the one named by <c>IDENTITY_TEST_POSTGRES</c> (a connection string to a
/// database whose user may create databases), or else one throwaway cluster for the whole test run.
/// </summary>
public static class TestPostgres
{
    private static readonly Lazy<Task<Server>> Shared = new(StartAsync);

    public sealed record Server(string AdminConnectionString)
    {
        public string ConnectionString(string database) =>
            new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

        public async Task<string> CreateDatabaseAsync(string prefix)
        {
            var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
            return name;
        }

        public async Task DropDatabaseAsync(string name)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public static Task<Server> GetAsync() => Shared.Value;

    private static async Task<Server> StartAsync()
    {
        var given = Environment.GetEnvironmentVariable("IDENTITY_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(given)) return new Server(given);
        var cluster = await PostgresCluster.StartAsync();
        // The cluster lives as long as the test process; stop it when the runner exits.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return new Server(cluster.ConnectionString());
    }
}
