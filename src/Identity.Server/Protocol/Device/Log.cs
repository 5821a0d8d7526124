namespace Identity.Server.Protocol.Device;

internal static partial class Log
{
    [LoggerMessage(EventId = 2111, Level = LogLevel.Information, Message = "User {UserId} {Decision} the device authorization of client {ClientId}.")]
    public static partial void DeviceAuthorizationDecided(this ILogger logger, string userId, string decision, string clientId);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Warning, Message = "User {UserId} typed too many wrong user codes; verification paused for a minute.")]
    public static partial void UserCodeAttemptsLimited(this ILogger logger, string userId);
}
