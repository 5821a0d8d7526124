namespace Identity.Server.Jobs;

internal static partial class Log
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Pruned {Tokens} tokens, {Authorizations} authorizations and {Other} links and sent emails in {ElapsedMs:F0} ms.")]
    public static partial void Pruned(this ILogger logger, int tokens, int authorizations, int other, double elapsedMs);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Job scheduler started as instance {InstanceId}.")]
    public static partial void SchedulerStarted(this ILogger logger, string instanceId);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Job scheduler instance {InstanceId} stopped and left the cluster.")]
    public static partial void SchedulerLeftCluster(this ILogger logger, string instanceId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Job scheduler instance {InstanceId} stopped but stays listed in the cluster ({Reason}); another node will report it as failed and recover it.")]
    public static partial void SchedulerStateKept(this ILogger logger, string instanceId, string reason);
}
