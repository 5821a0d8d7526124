namespace Identity.Server.Email;

internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "No SMTP host configured; \"{Subject}\" written to the pickup directory. Link: {Link}")]
    public static partial void PickupLink(this ILogger logger, string subject, string link);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Sending email {MessageId} failed (attempt {Attempt}); next attempt at {NextAttemptAt:O}: {Error}")]
    public static partial void EmailFailed(this ILogger logger, Guid messageId, int attempt, DateTimeOffset nextAttemptAt, string error);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Sent email {MessageId}.")]
    public static partial void EmailSent(this ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Email {MessageId} was refused permanently (attempt {Attempt}) and will not be retried: {Error}")]
    public static partial void EmailRejected(this ILogger logger, Guid messageId, int attempt, string error);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Debug, Message = "The SMTP server did not answer QUIT ({ExceptionType}); the connection is closed anyway.")]
    public static partial void SmtpQuitFailed(this ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Email {MessageId} dropped: no account awaits the link it asked for.")]
    public static partial void EmailDropped(this ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Email {MessageId} was {Outcome} after its claim (Jobs:Email:ClaimLease) ran out, and another node has taken it over since; that node's record of it is kept.")]
    public static partial void EmailClaimLost(this ILogger logger, Guid messageId, string outcome);
}
