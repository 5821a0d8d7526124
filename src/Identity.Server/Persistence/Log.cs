namespace Identity.Server.Persistence;

internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applied database migration {Version}.")]
    public static partial void MigrationApplied(this ILogger logger, string version);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Database is up to date ({Provider}).")]
    public static partial void DatabaseUpToDate(this ILogger logger, DatabaseProvider provider);
}
