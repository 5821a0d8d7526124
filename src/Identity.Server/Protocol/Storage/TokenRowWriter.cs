using System.Threading.Channels;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;
using NpgsqlTypes;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// Writes the new token rows of concurrent sign-ins in one statement and one commit (PostgreSQL): while a batch is
/// being written, the rows of the requests that arrive queue up and become the next batch, so the batch grows with
/// the load and nothing waits for a timer. A request's response waits for its batch's commit: a client never holds a
/// token whose row is not there, and a lost batch only fails its requests (their tokens were never handed out). If a
/// batch fails, each request's rows are tried on their own, so that one bad row fails only its own request.
/// One statement for many rows also spares PostgreSQL a foreign-key lock per row on the same client row by many
/// transactions at once (each such lock on a row already locked by others creates a multixact).
/// </summary>
internal sealed class TokenRowWriter(IServiceProvider services) : IAsyncDisposable
{
    private const int MaxRowsPerBatch = 500;
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private Task? loop;
    private string? insert;
    private NpgsqlConnection? connection;

    /// <summary>Completes once <paramref name="rows"/> are committed; throws if they could not be written.</summary>
    public Task WriteAsync(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> rows, DbContext model)
    {
        insert ??= InsertStatement(model);
        var pending = new Pending(rows, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (gate)
        {
            if (!queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(TokenRowWriter));
            loop ??= Task.Run(RunAsync);
        }
        return pending.Done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>();
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            var rows = 0;
            while (rows < MaxRowsPerBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
                rows += pending.Rows.Count;
            }
            try
            {
                await InsertAsync(batch.SelectMany(p => p.Rows).ToList());
                foreach (var pending in batch) pending.Done.TrySetResult();
            }
            catch (Exception batchFailure)
            {
                foreach (var pending in batch)
                {
                    if (batch.Count == 1)
                    {
                        pending.Done.TrySetException(batchFailure);
                        break;
                    }
                    try
                    {
                        await InsertAsync(pending.Rows);
                        pending.Done.TrySetResult();
                    }
                    catch (Exception failure)
                    {
                        pending.Done.TrySetException(failure);
                    }
                }
            }
        }
    }

    private async Task InsertAsync(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> rows)
    {
        try
        {
            await InsertOnceAsync(rows);
        }
        catch when (connection is null)
        {
            // The connection broke (the database restarted, say): once more on a new one.
            await InsertOnceAsync(rows);
        }
    }

    private async Task InsertOnceAsync(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> rows)
    {
        try
        {
            if (connection is null)
            {
                connection = new NpgsqlConnection(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(services)));
                await connection.OpenAsync();
            }
            await using var command = new NpgsqlCommand(insert, connection);
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Id));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Application?.Id));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Authorization?.Id));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.ConcurrencyToken));
            command.Parameters.Add(Column(rows, NpgsqlDbType.TimestampTz, t => t.CreationDate));
            command.Parameters.Add(Column(rows, NpgsqlDbType.TimestampTz, t => t.ExpirationDate));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Payload));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Properties));
            command.Parameters.Add(Column(rows, NpgsqlDbType.TimestampTz, t => t.RedemptionDate));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.ReferenceId));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Status));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Subject));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Type));
            await command.ExecuteNonQueryAsync();
        }
        catch when (connection is { FullState: not System.Data.ConnectionState.Open })
        {
            // Not usable any more (or never opened): the next attempt starts from a new connection.
            await connection.DisposeAsync();
            connection = null;
            throw;
        }
    }

    private static NpgsqlParameter Column<T>(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> rows, NpgsqlDbType type,
        Func<OpenIddictEntityFrameworkCoreToken<Guid>, T> value)
    {
        var values = new T[rows.Count];
        for (var i = 0; i < values.Length; i++) values[i] = value(rows[i]);
        return new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | type, Value = values };
    }

    /// <summary>The statement, with the table and column names EF's model gives OpenIddict's token entity.</summary>
    private static string InsertStatement(DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(OpenIddictEntityFrameworkCoreToken<Guid>))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Name(string property) => $"\"{entity.FindProperty(property)!.GetColumnName(table)}\"";
        string[] columns = ["Id", "ApplicationId", "AuthorizationId", "ConcurrencyToken", "CreationDate", "ExpirationDate", "Payload", "Properties",
            "RedemptionDate", "ReferenceId", "Status", "Subject", "Type"];
        string[] types = ["uuid", "uuid", "uuid", "text", "timestamptz", "timestamptz", "text", "text", "timestamptz", "text", "text", "text", "text"];
        var qualified = entity.GetSchema() is { } schema ? $"\"{schema}\".\"{table.Name}\"" : $"\"{table.Name}\"";
        return $"INSERT INTO {qualified} ({string.Join(", ", columns.Select(Name))}) SELECT * FROM unnest("
            + string.Join(", ", types.Select((type, i) => $"${i + 1}::{type}[]")) + ")";
    }

    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (gate)
        {
            queue.Writer.TryComplete();
            running = loop;
        }
        if (running is not null) await running;
        if (connection is not null) await connection.DisposeAsync();
    }

    private sealed record Pending(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> Rows, TaskCompletionSource Done);
}
