using System.Data;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Identity.Server.Persistence;

/// <summary>
/// One row by key (PostgreSQL), for the few reads on every request where EF's query pipeline and change tracking cost
/// more than the statement itself: through the context's transaction if it has one, else the multiplexed pool.
/// </summary>
internal static class SingleRowRead
{
    public static async Task<T?> ReadAsync<T>(DbContext db, MultiplexedReads shared, string statement, object key, Func<NpgsqlDataReader, T> map,
        CancellationToken ct)
        where T : class
    {
        // Inside a transaction the read must see what the transaction wrote; outside one, any connection sees every
        // commit made before the statement is sent, so the multiplexed pool answers just as truthfully.
        if (db.Database.CurrentTransaction is not { } transaction)
        {
            T? row;
            await using (var command = shared.Command(statement)) row = await ExecuteAsync(command, key, map, ct);
            // The read completes on the multiplexed connection's read loop; without a yield the rest of the request
            // (signatures, the response) would run there too, holding up the replies of every request sharing it.
            await Task.Yield();
            return row;
        }
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(statement, (NpgsqlConnection)db.Database.GetDbConnection())
            {
                Transaction = (NpgsqlTransaction)transaction.GetDbTransaction(),
            };
            return await ExecuteAsync(command, key, map, ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<T?> ExecuteAsync<T>(NpgsqlCommand command, object key, Func<NpgsqlDataReader, T> map, CancellationToken ct)
        where T : class
    {
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, ct);
        return await reader.ReadAsync(ct) ? map(reader) : null;
    }

    /// <summary>
    /// An entity made without running its constructor, for a caller that sets every column itself (from a row, from a
    /// cached copy, or a new token stamped when created): OpenIddict's entities and Identity's user draw random
    /// concurrency stamps and ids there (three <c>Guid.NewGuid</c> for a person, each a <c>getrandom</c> system call;
    /// 3.6 % of an introspection's samples), which the caller's values then replace. A collection navigation is left
    /// null, for EF to make when it tracks the entity.
    /// </summary>
    public static T Blank<T>() where T : class => (T)RuntimeHelpers.GetUninitializedObject(typeof(T));

    public static string? TextOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTime? TimeOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDateTime(ordinal);

    public static DateTimeOffset? OffsetOrNull(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    public static Guid? GuidOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetGuid(ordinal);
}
