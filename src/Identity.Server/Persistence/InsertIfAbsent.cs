using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Identity.Server.Persistence;

/// <summary>
/// Inserts a row unless its key is taken (<c>ON CONFLICT DO NOTHING</c>, on both providers), for the rows that record
/// "done once": a replayed client assertion, a device's simultaneous first polls. Through EF Core, the loser's failed
/// insert is an Error line with a stack trace, which anyone repeating the request could fill the log with. Table,
/// columns and values come from the model, each value as EF Core itself would send it (SQLite's context stores instants
/// as Unix milliseconds).
/// </summary>
internal static class InsertIfAbsent
{
    /// <summary>True if the row was inserted, false if one with its key was there.</summary>
    public static async Task<bool> RunAsync<TEntity>(DbContext db, TEntity row, CancellationToken ct) where TEntity : class
    {
        var entity = db.Model.FindEntityType(typeof(TEntity))!;
        var sql = db.GetService<ISqlGenerationHelper>();
        var properties = entity.GetProperties().ToList();
        using var command = db.Database.GetDbConnection().CreateCommand();
        var values = properties.Select(p => (object)p.GetRelationalTypeMapping().CreateParameter(command, "p_" + p.Name, p.GetGetter().GetClrValue(row))).ToArray();
        var statement = $"INSERT INTO {sql.DelimitIdentifier(entity.GetTableName()!)} ({string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName())))}) "
            + $"VALUES ({string.Join(", ", properties.Select((_, i) => $"{{{i}}}"))}) ON CONFLICT DO NOTHING";
        return await db.Database.ExecuteSqlRawAsync(statement, values, ct) == 1;
    }
}
