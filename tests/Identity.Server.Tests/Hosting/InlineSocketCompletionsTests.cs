using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// The server run with the runtime's socket completions inline (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>,
/// a setting operators reach for throughput). Start-up's last await can then resume on a socket engine's own thread;
/// had the program blocked there to run the host, every socket of that engine would stall for good: PostgreSQL
/// connections opened on it time out, and the requests that need them fail with 503.
/// </summary>
public sealed class InlineSocketCompletionsTests
{
    [Fact]
    public async Task WithSocketCompletionsInline_RequestsThatWriteToPostgreSQL_AreAnswered()
    {
        var postgres = await TestPostgres.GetAsync();
        var database = await postgres.CreateDatabaseAsync("inline");
        try
        {
            var dll = Path.Combine(BuiltServer.BuildOutput(), "Identity.Server.dll");
            await using var server = BuiltServer.Start(dll, workingDirectory: null, TestHosts.FreePort(), new Dictionary<string, string>
            {
                ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1",
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__Identity"] = postgres.ConnectionString(database),
                // The least hashing the server allows: what is tested is its sockets, and 16 full-cost hashes queued on
                // a busy test machine could take longer than the client's 5 s on their own.
                ["Accounts__Password__HashIterations"] = "10000",
            });
            Assert.True(await server.BecomesReadyAsync(), $"the server did not become ready:\n{server.Output}");
            var accounts = new AccountApi(server.Http, null!);

            // Concurrent registrations: the connection pool opens new connections, spread over the socket engines.
            var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                try { return (int)(await accounts.RegisterAsync(AccountApi.NewEmail())).Response.StatusCode; }
                catch (TaskCanceledException) { return 0; } // no answer within the client's 5 s
            }));

            Assert.All(answers, status => Assert.InRange(status, 200, 299));
        }
        finally
        {
            await postgres.DropDatabaseAsync(database);
        }
    }
}
