using System.Reflection;
using Microsoft.Extensions.Options;

namespace Identity.Server.Hosting;

/// <summary>
/// Configuration refused at start-up is the operator's to fix, not a crash: its messages are logged once, in the
/// environment's log format, and the process exits with <see cref="ExitCode"/>. Unhandled, it aborted the process (exit
/// 134, SIGABRT, a core dump where enabled) with a stack trace in plain text, even where the log is JSON lines.
/// </summary>
internal static class StartUpRefusal
{
    public const int ExitCode = 1;

    /// <summary>
    /// Whether an exception from registration or <see cref="HostingRegistration.ValidateOptions"/> refuses configuration
    /// and this server is the process: a validator's failures, or an InvalidOperationException, which is what the
    /// configuration binder throws for a value it cannot convert and what our registration code throws for a setting it
    /// cannot use (a certificate that does not open); nothing has run yet that could fail in another way. A host that
    /// runs Program's entry point itself (the tests' WebApplicationFactory) gets the exception, as from any entry point.
    /// </summary>
    public static bool EndsTheProcess(Exception exception) => IsTheProcess && IsRefusal(exception);

    /// <summary>Whether this server is the process, rather than hosted by another entry point (the tests' WebApplicationFactory).</summary>
    public static bool IsTheProcess => Assembly.GetEntryAssembly() == typeof(StartUpRefusal).Assembly;

    private static bool IsRefusal(Exception exception) => exception switch
    {
        OptionsValidationException or InvalidOperationException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsRefusal),
        _ => false,
    };

    public static int Report(Exception refusal, IHostEnvironment environment)
    {
        using (var logging = LoggerFactory.Create(l => HostingRegistration.AddConsole(l, environment)))
        {
            var logger = logging.CreateLogger(typeof(StartUpRefusal).FullName!);
            foreach (var reason in ReasonsOf(refusal).Distinct()) logger.StartUpRefused(reason);
        } // disposing the factory flushes the console
        return ExitCode;
    }

    /// <summary>
    /// A failure after the host was built and before it serves (migrating, seeding, reading the key ring, a verb's work):
    /// logged once through the server's own logging, and exit code 1, where it was an abort with a plain-text stack
    /// trace. A database that does not answer is the operator's to bring up, and its stack trace says nothing more; any
    /// other failure (a key ring the configured certificate cannot decrypt) keeps its exception for diagnosis.
    /// </summary>
    public static async Task<int> ReportFailureAsync(Exception failure, WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StartUpRefusal).FullName!);
        if (DatabaseFaults.IsUnavailable(failure))
            logger.StartUpFailedOnTheDatabase(failure.GetBaseException().GetType().Name, failure.GetBaseException().Message);
        else
            logger.StartUpFailed(failure, failure.GetBaseException().Message);
        await app.DisposeAsync(); // flushes the console
        return ExitCode;
    }

    private static IEnumerable<string> ReasonsOf(Exception exception) => exception switch
    {
        OptionsValidationException options => options.Failures,
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(ReasonsOf),
        // The binder's "Failed to convert configuration value 'forever' at 'Identity:Tokens:AccessTokenLifetime' …"
        // names the key; its inner exception says what is wrong with the value.
        _ => [exception.InnerException is { } inner ? $"{exception.Message} {inner.Message}" : exception.Message],
    };
}
