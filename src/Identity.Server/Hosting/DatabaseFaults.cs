using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Identity.Server.Hosting;

/// <summary>
/// Tells an unreachable or overloaded database, or a server not ready yet (answer 503 and let the client retry), from a bug (500).
/// Not ready includes a database whose migrations have not been applied yet (<c>Database:MigrateOnStartup=false</c>
/// until the <c>migrate</c> verb has run: a table is missing) and one that refuses writes, as a standby does until a
/// failover has promoted it.
/// </summary>
internal static class DatabaseFaults
{
    /// <summary>A statement or connection that got no answer in time: the database is silent, not refusing.</summary>
    public static bool IsTimeout(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
            if (current is TimeoutException) return true;
        return false;
    }

    public static bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case NpgsqlException { IsTransient: true }:
                case PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" }:
                case PostgresException { SqlState: "42P01" or "25006" }: // undefined_table, read_only_sql_transaction
                case SqliteException { SqliteErrorCode: 5 or 6 or 8 }: // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY
                case SqliteException { SqliteErrorCode: 1 } sqlite when sqlite.Message.Contains("no such table", StringComparison.Ordinal):
                case SocketException:
                case TimeoutException:
                case ServiceNotReadyException:
                    return true;
                case DbException { IsTransient: true }:
                    return true;
            }
            if (current is InvalidOperationException && current.Message.Contains("transient failure", StringComparison.Ordinal))
                return true;
        }
        return false;
    }
}
