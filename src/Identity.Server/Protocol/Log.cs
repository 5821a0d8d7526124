namespace Identity.Server.Protocol;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Token request rejected for client {ClientId}: {Error} ({Detail}).")]
    public static partial void TokenRequestRejected(this ILogger logger, string? clientId, string error, string? detail);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "A redeemed refresh token or code was used again by client {ClientId}; authorization {AuthorizationId} and its tokens revoked.")]
    public static partial void RedeemedTokenReused(this ILogger logger, string? clientId, string authorizationId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Created key {KeyId} ({Use}, {Algorithm}), in use from {ActivatesAt:O}.")]
    public static partial void KeyCreated(this ILogger logger, string keyId, string use, string algorithm, DateTimeOffset activatesAt);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Error, Message = "The keys could not be reloaded; the ones loaded before stay in use.")]
    public static partial void KeysNotReloaded(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Seeded {Count} configured client(s).")]
    public static partial void ClientsSeeded(this ILogger logger, int count);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "Client {ClientId} is no longer declared in configuration but still works; remove it with the remove-client verb.")]
    public static partial void ClientNoLongerDeclared(this ILogger logger, string clientId);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Client {ClientId} removed, with its authorizations and tokens.")]
    public static partial void ClientRemoved(this ILogger logger, string clientId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Password grant for user {UserId}: {Outcome}.")]
    public static partial void PasswordSignInRefused(this ILogger logger, string userId, string outcome);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "The database is not migrated or does not answer yet; clients and keys will be prepared once it is and does.")]
    public static partial void ProtocolStartupDeferred(this ILogger logger);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Not listening for client changes made on other nodes ({Reason}); clients are read from the database until the connection is back.")]
    public static partial void ApplicationChangesUnheard(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "Not listening for keys created on other nodes ({Reason}); the key ring is read every 5 minutes until the connection is back.")]
    public static partial void KeyChangesUnheard(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "{Endpoint} request from client {ClientId} refused: {Error} ({Description}).")]
    public static partial void RequestRefused(this ILogger logger, string endpoint, string clientId, string error, string? description);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Request to {Path} refused: {Description}")]
    public static partial void MalformedTextRefused(this ILogger logger, string path, string description);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning, Message = "Not listening for token, authorization and person rows changed on other nodes ({Reason}); access tokens' entries are read from the database until the connection is back.")]
    public static partial void RowChangesUnheard(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Warning, Message = "A revocation answered without every node confirming it dropped its copies: {Reason}.")]
    public static partial void RowChangeBarrierSkipped(this ILogger logger, string reason);
}
