namespace Identity.Server.Persistence;

/// <summary>Command-line verbs: <c>migrate</c> applies migrations and exits; <c>prune</c> runs the prune job once (for
/// cron or a one-off clean-up) and prints what it removed; <c>remove-client ID</c> deletes a client that configuration
/// no longer declares, with its authorizations and tokens.</summary>
internal static class DatabaseCommands
{
    /// <summary>Whether the command line names a verb: the process then runs it and exits, serving no request.</summary>
    public static bool IsCommand(string[] args) => Verb(args) is "migrate" or "prune" or RemoveClient;

    private const string RemoveClient = "remove-client";

    public static async Task<bool> TryRunAsync(WebApplication app, string[] args)
    {
        if (!IsCommand(args)) return false;
        var verb = Verb(args);
        await using var scope = app.Services.CreateAsyncScope();
        PersistenceRegistration.LongWork(scope.ServiceProvider.GetRequiredService<ServerDbContext>());
        if (verb == "migrate")
            await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        else if (verb == RemoveClient)
        {
            var operands = args.Where(a => !a.StartsWith('-') && !a.Contains('=')).Skip(1).ToArray();
            if (operands is not [{ } clientId])
            {
                Console.Error.WriteLine("Usage: remove-client CLIENT_ID");
                Environment.ExitCode = 2;
            }
            else if (await scope.ServiceProvider.GetRequiredService<Protocol.Clients.ClientSeeder>().RemoveAsync(clientId, CancellationToken.None) is { } refusal)
            {
                Console.Error.WriteLine(refusal);
                Environment.ExitCode = 1;
            }
            else
                Console.Out.WriteLine($"Removed client '{clientId}', with its authorizations and tokens.");
        }
        else
        {
            var result = await scope.ServiceProvider.GetRequiredService<Jobs.PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);
            Console.Out.WriteLine($"{result.Tokens} tokens, {result.Authorizations} authorizations, {result.Other} other rows in {result.Elapsed.TotalSeconds:F1} s");
        }
        return true;
    }

    private static string? Verb(string[] args) => args.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('='));

    public static async Task MigrateOnStartupAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value;
        if (!options.MigrateOnStartup) return;
        await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        app.Logger.DatabaseUpToDate(options.Provider);
    }
}
