using Npgsql;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>What PostgreSQL plans for a statement of ours, prepared on a given connection (with its settings).</summary>
public static class QueryPlans
{
    /// <summary>The lines of <c>EXPLAIN EXECUTE</c> for <paramref name="statement"/> with <paramref name="arguments"/> (SQL literals).</summary>
    public static async Task<List<string>> ExplainAsync(NpgsqlConnection connection, string statement, string arguments)
    {
        await using (var prepare = new NpgsqlCommand($"PREPARE planned AS {statement}", connection)) await prepare.ExecuteNonQueryAsync();
        var plan = new List<string>();
        await using (var explain = new NpgsqlCommand($"EXPLAIN EXECUTE planned({arguments})", connection))
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        return plan;
    }
}
