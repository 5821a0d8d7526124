using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Identity.Server.Persistence;

/// <summary>Whether a write failed because a row with the same key exists: the database settled a race between nodes.</summary>
internal static class UniqueViolation
{
    public static bool Is(DbUpdateException exception) => exception.InnerException is
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }
        // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
        or SqliteException { SqliteExtendedErrorCode: 1555 or 2067 };
}
