namespace Identity.Server.Jobs;

internal static partial class Log
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Pruned {Tokens} tokens, {Authorizations} authorizations and {Other} links and sent emails in {ElapsedMs:F0} ms.")]
    public static partial void Pruned(this ILogger logger, int tokens, int authorizations, int other, double elapsedMs);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Job scheduler started as instance {InstanceId}.")]
    public static partial void SchedulerStarted(this ILogger logger, string instanceId);
}
