namespace Identity.Server.Hosting;

internal static partial class Log
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Unhandled exception on {Path}.")]
    public static partial void UnhandledException(this ILogger logger, Exception? exception, string path);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Database unavailable while serving {Path} ({ExceptionType}); answered 503.")]
    public static partial void DatabaseUnavailable(this ILogger logger, string path, string? exceptionType);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Critical, Message = "Start-up refused: {Reason}")]
    public static partial void StartUpRefused(this ILogger logger, string reason);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Critical,
        Message = "Start-up failed: the database did not answer ({ExceptionType}: {Reason}). Start the server again once it does.")]
    public static partial void StartUpFailedOnTheDatabase(this ILogger logger, string exceptionType, string reason);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Critical, Message = "Start-up failed: {Reason}")]
    public static partial void StartUpFailed(this ILogger logger, Exception exception, string reason);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Warning,
        Message = "The garbage collector's young generation is held to {CeilingMb} MB: this machine shows the runtime no CPU cache sizes. Under load that means dozens of collections a second; set {Variable}={Value} in the server's environment (docs/operations.md, Runtime settings).")]
    public static partial void CollectorBudgetIsTheFallback(this ILogger logger, long ceilingMb, string variable, string value);
}
