using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Identity.Server.Persistence;

/// <summary>
/// One row by key through the context's own connection and transaction (PostgreSQL), for the few reads on every
/// request where EF's query pipeline and change tracking cost more than the statement itself.
/// </summary>
internal static class SingleRowRead
{
    public static async Task<T?> ReadAsync<T>(DbContext db, string statement, object key, Func<NpgsqlDataReader, T> map, CancellationToken ct)
        where T : class
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(statement, (NpgsqlConnection)db.Database.GetDbConnection())
            {
                Transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction(),
            };
            command.Parameters.Add(new NpgsqlParameter { Value = key });
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, ct);
            return await reader.ReadAsync(ct) ? map(reader) : null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public static string? TextOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTime? TimeOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDateTime(ordinal);

    public static DateTimeOffset? OffsetOrNull(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    public static Guid? GuidOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetGuid(ordinal);
}
