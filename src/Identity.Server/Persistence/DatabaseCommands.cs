namespace Identity.Server.Persistence;

/// <summary>Command-line verbs: <c>migrate</c> applies migrations and exits; <c>prune</c> runs the prune job once (for
/// cron or a one-off clean-up) and prints what it removed; <c>remove-client ID</c> deletes a client that configuration
/// no longer declares, with its authorizations and tokens.</summary>
internal static class DatabaseCommands
{
    /// <summary>Whether the command line names a verb: the process then runs it and exits, serving no request.</summary>
    public static bool IsCommand(string[] args) => Verb(args) is Migrate or Prune or RemoveClient;

    private const string Migrate = "migrate", Prune = "prune", RemoveClient = "remove-client";

    public const string Usage = """
        Usage: Identity.Server [migrate | prune | remove-client CLIENT_ID] [--Section:Key=value ...]
          (no verb)                serve
          migrate                  apply the database migrations and exit
          prune                    run the prune job once, print what it removed and exit
          remove-client CLIENT_ID  delete a client that configuration no longer declares, with its authorizations and tokens
          --healthcheck-probe      ask the running server's /health/live (exit code 0 when it answers)
          --help, -h               print this and exit
        """;

    /// <summary>
    /// The exit code when the command line asks for no server and no verb: 0 after printing the usage for <c>--help</c>
    /// or <c>-h</c>; 2 for an operand that is no verb (<c>migrat</c>, <c>remove-clinet</c>), which used to start the
    /// whole server: a cron job or an init container with a typo migrated, seeded and then served for ever. Null for
    /// everything else, configuration included.
    /// </summary>
    public static int? RefusedOrHelp(string[] args, TextWriter output, TextWriter errors)
    {
        if (Switches(args).Any(s => s is "--help" or "-h"))
        {
            output.WriteLine(Usage);
            return 0;
        }
        if (Verb(args) is not { } verb || IsCommand(args)) return null;
        errors.WriteLine($"Unknown verb '{verb}'.");
        errors.WriteLine(Usage);
        return 2;
    }

    public static async Task<bool> TryRunAsync(WebApplication app, string[] args)
    {
        if (!IsCommand(args)) return false;
        var verb = Verb(args);
        await using var scope = app.Services.CreateAsyncScope();
        PersistenceRegistration.LongWork(scope.ServiceProvider.GetRequiredService<ServerDbContext>());
        var migrator = scope.ServiceProvider.GetRequiredService<DatabaseMigrator>();
        if (verb == "migrate")
            await migrator.MigrateAsync(CancellationToken.None);
        // The other verbs read and delete in our tables: on a database without them (or without the newest) they failed
        // with "no such table" and a stack trace, logged as a failed start-up, which did not say what to do.
        else if (await migrator.PendingAsync(CancellationToken.None) is { Count: > 0 } pending)
        {
            Console.Error.WriteLine($"The database is not migrated: {pending.Count} migration(s) not applied. Run 'migrate' first.");
            Environment.ExitCode = 1;
        }
        else if (verb == RemoveClient)
        {
            if (Operands(args).Skip(1).ToArray() is not [{ } clientId])
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

    private static string? Verb(string[] args) => Operands(args).FirstOrDefault();

    private static IEnumerable<string> Operands(string[] args) => Parse(args).Where(a => a.IsOperand).Select(a => a.Text);

    private static IEnumerable<string> Switches(string[] args) => Parse(args).Where(a => !a.IsOperand).Select(a => a.Text);

    /// <summary>
    /// The arguments as ASP.NET Core's command-line configuration reads them, so that configuration is never taken for
    /// a verb: <c>Key=value</c>, <c>--Key=value</c> and <c>/Key=value</c> are settings; <c>--Key value</c> and
    /// <c>/Key value</c> take the next argument as the value; a lone <c>-x</c> is a switch it ignores. What is left
    /// are the operands, the first of them the verb.
    /// </summary>
    private static IEnumerable<(string Text, bool IsOperand)> Parse(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.Contains('=')) continue;
            if (arg.StartsWith("--", StringComparison.Ordinal) || arg.StartsWith('/'))
            {
                yield return (arg, false);
                if (arg != "--help") i++; // the value of --Key; --help has none
            }
            else if (arg.StartsWith('-'))
                yield return (arg, false);
            else
                yield return (arg, true);
        }
    }

    public static async Task MigrateOnStartupAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value;
        if (!options.MigrateOnStartup) return;
        await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        app.Logger.DatabaseUpToDate(options.Provider);
    }
}
