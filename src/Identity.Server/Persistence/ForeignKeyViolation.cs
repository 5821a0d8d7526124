using Microsoft.Data.Sqlite;
using Npgsql;

namespace Identity.Server.Persistence;

/// <summary>
/// Whether a write failed because a row it refers to is gone: another process deleted it between the request's read and
/// its write (a client removed by the <c>remove-client</c> verb, an authorization revoked).
/// </summary>
internal static class ForeignKeyViolation
{
    public static bool Is(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
            // SQLITE_CONSTRAINT_FOREIGNKEY
            if (current is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } or SqliteException { SqliteExtendedErrorCode: 787 })
                return true;
        return false;
    }
}
