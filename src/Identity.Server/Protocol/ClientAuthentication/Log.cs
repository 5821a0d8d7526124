namespace Identity.Server.Protocol.ClientAuthentication;

internal static partial class Log
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "A client assertion of client {ClientId} was presented again; refused.")]
    public static partial void ClientAssertionReplayed(this ILogger logger, string clientId);
}
