using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Identity.Server.Hosting;

/// <summary>
/// Tells an unreachable or overloaded database, or a server not ready yet (answer 503 and let the client retry), from a bug (500).
/// </summary>
internal static class DatabaseFaults
{
    public static bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case NpgsqlException { IsTransient: true }:
                case PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" }:
                case SqliteException { SqliteErrorCode: 5 or 6 }: // SQLITE_BUSY, SQLITE_LOCKED
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
