namespace Identity.Server.Protocol;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Token request rejected for client {ClientId}: {Error} ({Detail}).")]
    public static partial void TokenRequestRejected(this ILogger logger, string? clientId, string error, string? detail);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Refresh token reuse by client {ClientId}; authorization {AuthorizationId} revoked.")]
    public static partial void RefreshTokenReused(this ILogger logger, string clientId, Guid authorizationId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Created signing key {KeyId} ({Algorithm}), signing from {ActivatesAt:O}.")]
    public static partial void SigningKeyCreated(this ILogger logger, string keyId, string algorithm, DateTimeOffset activatesAt);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Seeded {Count} configured client(s).")]
    public static partial void ClientsSeeded(this ILogger logger, int count);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Password grant for user {UserId}: {Outcome}.")]
    public static partial void PasswordSignInRefused(this ILogger logger, string userId, string outcome);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Database migrations are pending; clients and signing keys will be prepared once they are applied.")]
    public static partial void ProtocolStartupDeferred(this ILogger logger);
}
