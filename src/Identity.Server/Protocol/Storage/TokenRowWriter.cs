using System.Threading.Channels;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Token.Rotation;
using Microsoft.EntityFrameworkCore;
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
/// A refresh's rows come with the redemption of the token it presented (<see cref="RefreshRedemption"/>): the same
/// statement redeems the batch's tokens that are still valid, and writes the rows and sealed successor of exactly
/// those sign-ins. Two uses of one token never share a batch (their two successors would fail it on the successor's
/// key): the second waits for the next batch and finds the token redeemed.
/// </summary>
internal sealed class TokenRowWriter(IServiceProvider services, RowIds ids) : IAsyncDisposable
{
    private const int MaxRowsPerBatch = 500;
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private Task? loop;
    private string? statement;
    private NpgsqlConnection? connection;

    /// <summary>
    /// Completes once <paramref name="rows"/> are committed, with true; with false, having written nothing, when the
    /// token <paramref name="redemption"/> redeems was not valid any more. Throws if they could not be written.
    /// </summary>
    public Task<bool> WriteAsync(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> rows, DbContext model, RefreshRedemption? redemption = null)
    {
        statement ??= Statement(model);
        var pending = new Pending(rows, redemption, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
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
        var redeeming = new HashSet<Guid>();
        var carried = new List<Pending>();
        while (carried.Count > 0 || await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            redeeming.Clear();
            var waiting = carried;
            carried = [];
            var taken = 0;
            var rows = 0;
            while (rows < MaxRowsPerBatch)
            {
                Pending pending;
                if (taken < waiting.Count) pending = waiting[taken++];
                else if (!queue.Reader.TryRead(out pending!)) break;
                if (pending.Redemption is { } redemption && !redeeming.Add(redemption.TokenId))
                {
                    carried.Add(pending);
                    continue;
                }
                batch.Add(pending);
                rows += pending.Rows.Count;
            }
            carried.InsertRange(0, waiting.Skip(taken));
            try
            {
                var redeemed = await WriteBatchAsync(batch);
                foreach (var pending in batch) pending.Done.TrySetResult(pending.Redemption is not { } r || redeemed.Contains(r.TokenId));
            }
            catch (Exception batchFailure) when (batch.Count == 1 || DatabaseFaults.IsUnavailable(batchFailure))
            {
                // Nothing to single out: tried one by one against a database that does not answer, each request would
                // wait for it in turn, the last of a batch of 30 for minutes.
                foreach (var pending in batch) pending.Done.TrySetException(batchFailure);
                if (DatabaseFaults.IsTimeout(batchFailure))
                {
                    // And what queued behind a batch that timed out came while the database was silent: it would wait
                    // for a new connection's timeout on top of that batch's.
                    foreach (var pending in carried) pending.Done.TrySetException(batchFailure);
                    carried.Clear();
                    while (queue.Reader.TryRead(out var queued)) queued.Done.TrySetException(batchFailure);
                }
            }
            catch (Exception)
            {
                foreach (var pending in batch)
                {
                    try
                    {
                        var redeemed = await WriteBatchAsync([pending]);
                        pending.Done.TrySetResult(pending.Redemption is not { } r || redeemed.Contains(r.TokenId));
                    }
                    catch (Exception failure)
                    {
                        pending.Done.TrySetException(failure);
                    }
                }
            }
        }
    }

    private async Task<HashSet<Guid>> WriteBatchAsync(IReadOnlyList<Pending> batch)
    {
        var kept = connection is not null;
        try
        {
            return await WriteOnceAsync(batch);
        }
        catch (Exception failure) when (kept && connection is null && !DatabaseFaults.IsTimeout(failure))
        {
            // The kept connection broke (the database restarted, say): once more on a new one. Not after a timeout: a
            // database that does not answer would only be waited for twice, and SPEC §6 wants the 503 within seconds.
            return await WriteOnceAsync(batch);
        }
    }

    private async Task<HashSet<Guid>> WriteOnceAsync(IReadOnlyList<Pending> batch)
    {
        try
        {
            if (connection is null)
            {
                connection = new NpgsqlConnection(ConnectionString(PersistenceRegistration.ConnectionString(services)));
                await connection.OpenAsync();
            }
            var redemptions = batch.Where(p => p.Redemption is not null).Select(p => p.Redemption!).ToList();
            var rows = batch.SelectMany(p => p.Rows.Select(row => (Row: row, Redeems: p.Redemption?.TokenId))).ToList();
            await using var command = new NpgsqlCommand(statement, connection);
            command.Parameters.Add(Column(redemptions, NpgsqlDbType.Uuid, r => r.TokenId));
            command.Parameters.Add(Column(redemptions, NpgsqlDbType.TimestampTz, r => r.At));
            command.Parameters.Add(Column(redemptions, NpgsqlDbType.Text, _ => ids.Next().ToString()));
            command.Parameters.Add(Column(redemptions, NpgsqlDbType.Bytea, r => r.Successor!.Sealed));
            command.Parameters.Add(Column(redemptions, NpgsqlDbType.TimestampTz, r => r.Successor!.CreatedAt));
            command.Parameters.Add(Column(redemptions, NpgsqlDbType.TimestampTz, r => r.Successor!.ExpiresAt));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Row.Id));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Row.Application?.Id));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Row.Authorization?.Id));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.ConcurrencyToken));
            command.Parameters.Add(Column(rows, NpgsqlDbType.TimestampTz, t => t.Row.CreationDate));
            command.Parameters.Add(Column(rows, NpgsqlDbType.TimestampTz, t => t.Row.ExpirationDate));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.Payload));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.Properties));
            command.Parameters.Add(Column(rows, NpgsqlDbType.TimestampTz, t => t.Row.RedemptionDate));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.ReferenceId));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.Status));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.Subject));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Text, t => t.Row.Type));
            command.Parameters.Add(Column(rows, NpgsqlDbType.Uuid, t => t.Redeems));
            var redeemed = new HashSet<Guid>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) redeemed.Add(reader.GetGuid(0));
            return redeemed;
        }
        catch when (connection is { FullState: not System.Data.ConnectionState.Open })
        {
            // Not usable any more (or never opened): the next attempt starts from a new connection.
            await connection.DisposeAsync();
            connection = null;
            throw;
        }
    }

    /// <summary>
    /// The writer's connection: the main pool's settings, plus two choices for its one statement. It is planned once
    /// (<c>plan_cache_mode</c>): planned per batch, PostgreSQL spent 0.64 s planning against 0.92 s executing. And the plan
    /// finds the redeemed tokens by primary key whatever the statistics say: a new deployment's token table has none until
    /// autovacuum first analyzes it, up to a minute into the load, and from none PostgreSQL planned a scan of every valid
    /// token per batch, growing with the table (docs/performance.md, "A fresh database under load"). Without sequential
    /// scans, hash or merge joins, and with a status test no index serves (<see cref="Statement"/>), the primary key is the
    /// one plan left. The options travel in the connection string, so the connection comes from a pool of its own and
    /// they never reach the main pool's connections.
    /// </summary>
    internal static string ConnectionString(string configured)
    {
        var builder = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned(configured));
        builder.Options = $"{builder.Options} -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off".Trim();
        return builder.ConnectionString;
    }

    private static NpgsqlParameter Column<TItem, T>(IReadOnlyList<TItem> rows, NpgsqlDbType type, Func<TItem, T> value)
    {
        var values = new T[rows.Count];
        for (var i = 0; i < values.Length; i++) values[i] = value(rows[i]);
        return new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | type, Value = values };
    }

    /// <summary>
    /// The statement, with the table and column names EF's model gives OpenIddict's token entity and the successors:
    /// redeem what is still valid of the batch's presented refresh tokens, write the successors and rows of those
    /// redemptions and every row that redeems nothing, and return the ids redeemed. The status test reads
    /// <c>(… = 'valid') IS TRUE</c> so that no index can serve it: an index on the status would be a way to scan
    /// every valid token (<see cref="ConnectionString"/>).
    /// </summary>
    internal static string Statement(DbContext db)
    {
        var token = db.Model.FindEntityType(typeof(OpenIddictEntityFrameworkCoreToken<Guid>))!;
        var successor = db.Model.FindEntityType(typeof(RefreshTokenSuccessor))!;
        string[] columns = ["Id", "ApplicationId", "AuthorizationId", "ConcurrencyToken", "CreationDate", "ExpirationDate", "Payload", "Properties",
            "RedemptionDate", "ReferenceId", "Status", "Subject", "Type"];
        string[] types = ["uuid", "uuid", "uuid", "text", "timestamptz", "timestamptz", "text", "text", "timestamptz", "text", "text", "text", "text"];
        string T(string property) => StoreNames.Column(token, property);
        string S(string property) => StoreNames.Column(successor, property);
        return $"""
            WITH redeemed AS (
                UPDATE {StoreNames.Table(token)} AS t SET {T("Status")} = 'redeemed', {T("RedemptionDate")} = r.at, {T("ConcurrencyToken")} = r.stamp
                FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS r(id, at, stamp)
                WHERE t.{T("Id")} = r.id AND (t.{T("Status")} = 'valid') IS TRUE
                RETURNING t.{T("Id")} AS id),
            successors AS (
                INSERT INTO {StoreNames.Table(successor)} ({S("TokenId")}, {S("Sealed")}, {S("CreatedAt")}, {S("ExpiresAt")})
                SELECT s.id, s.sealed, s.created, s.expires FROM unnest($1::uuid[], $4::bytea[], $5::timestamptz[], $6::timestamptz[]) AS s(id, sealed, created, expires)
                WHERE s.id IN (SELECT id FROM redeemed)),
            tokens AS (
                INSERT INTO {StoreNames.Table(token)} ({string.Join(", ", columns.Select(T))})
                SELECT {string.Join(", ", columns.Select((_, i) => $"n.c{i}"))}
                FROM unnest({string.Join(", ", types.Select((type, i) => $"${i + 7}::{type}[]"))}, ${columns.Length + 7}::uuid[])
                    AS n({string.Join(", ", columns.Select((_, i) => $"c{i}"))}, redeems)
                WHERE n.redeems IS NULL OR n.redeems IN (SELECT id FROM redeemed))
            SELECT id FROM redeemed
            """;
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

    private sealed record Pending(IReadOnlyList<OpenIddictEntityFrameworkCoreToken<Guid>> Rows, RefreshRedemption? Redemption,
        TaskCompletionSource<bool> Done);
}
