using System.Threading.Channels;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Identity.Server.Protocol.Issuance;

/// <summary>A refresh token to redeem at an instant, and the seed its successor derives from.</summary>
internal sealed record Redemption(Guid TokenId, DateTimeOffset At, byte[] Seed);

/// <summary>
/// Group commit for the token writes that need nothing else of the request: a client_credentials access token's row,
/// and a refresh token's redemption with its successors' rows. Concurrent requests' writes share one statement and one
/// commit instead of one each, which is most of the database's cost of those grants. Each request still waits until
/// its write is committed before its tokens leave the server, so a resource server never meets a token whose row is
/// not there yet; and a failed write can only fail the requests in it (with the error a direct write would give),
/// never make a token valid.
/// </summary>
internal sealed class TokenRowWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly IServiceScopeFactory scopes;
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>();
    private readonly Task[] writers;

    public TokenRowWriter(IServiceScopeFactory scopes, IOptions<DatabaseOptions> database)
    {
        this.scopes = scopes;
        // While one group commits the next one gathers; SQLite has a single writer anyway.
        var count = database.Value.Provider == DatabaseProvider.Postgres ? 2 : 1;
        writers = Enumerable.Range(0, count).Select(_ => Task.Run(WriteGroupsAsync)).ToArray();
    }

    /// <summary>Completes when the row is committed; throws what the database threw.</summary>
    public Task WriteAsync(Token row, CancellationToken ct) => Enqueue(new Pending([row], null), ct);

    /// <summary>
    /// Redeems a refresh token and writes its successors' rows, all or nothing, and only if the token is still valid:
    /// of N concurrent redemptions of one token exactly one commits; the others throw
    /// <see cref="DbUpdateConcurrencyException"/> once the winner is committed, and write nothing.
    /// </summary>
    public Task RedeemAsync(Redemption redemption, IReadOnlyList<Token> successors, CancellationToken ct) =>
        Enqueue(new Pending(successors, redemption), ct);

    private Task Enqueue(Pending pending, CancellationToken ct)
    {
        if (!queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(TokenRowWriter));
        return pending.Committed.Task.WaitAsync(ct);
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<Pending>(MaxBatch);
        var redeeming = new HashSet<Guid>();
        Pending? next = null;
        while (next is not null || await queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            redeeming.Clear();
            if (next is not null) Join(next);
            next = null;
            while (group.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                // A second use of a token waits for the next group, which finds it redeemed: one statement never
                // redeems a token twice.
                if (pending.Redeems is { } redemption && redeeming.Contains(redemption.TokenId))
                {
                    next = pending;
                    break;
                }
                Join(pending);
            }
            if (group.Count == 0) continue;
            try
            {
                Complete(group, await SaveAsync(group));
            }
            catch (DbUpdateException) when (group.Count > 1)
            {
                // A constraint one row broke fails that request alone; after a deadlock each write succeeds alone.
                foreach (var pending in group) await SaveAloneAsync(pending);
            }
            catch (Exception e)
            {
                foreach (var pending in group) pending.Committed.TrySetException(e);
            }
        }

        void Join(Pending pending)
        {
            group.Add(pending);
            if (pending.Redeems is { } redemption) redeeming.Add(redemption.TokenId);
        }
    }

    private async Task SaveAloneAsync(Pending pending)
    {
        try
        {
            Complete([pending], await SaveAsync([pending]));
        }
        catch (Exception e)
        {
            pending.Committed.TrySetException(e);
        }
    }

    private static void Complete(IEnumerable<Pending> group, HashSet<Guid> redeemed)
    {
        foreach (var pending in group)
        {
            if (pending.CommittedWith(redeemed)) pending.Committed.TrySetResult();
            else pending.Committed.TrySetException(new DbUpdateConcurrencyException("The refresh token was already redeemed or revoked."));
        }
    }

    /// <summary>Commits the group; returns the tokens it redeemed.</summary>
    private async Task<HashSet<Guid>> SaveAsync(IReadOnlyCollection<Pending> group)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        // Not a request's token: a client that hung up must not cancel the writes of the others in the group.
        return db.Database.IsNpgsql() ? await SaveAsStatementAsync(db, group) : await SaveTrackedAsync(db, group);
    }

    // One statement whose text never changes (the rows travel as arrays), so PostgreSQL prepares it once per
    // connection: the conditional redemptions, then the rows — a successor's only if its redemption happened. It commits
    // on its own, with no BEGIN and COMMIT round trips. A token another statement is redeeming is locked: this one waits,
    // re-reads the status and redeems nothing.
    private const string GroupSql = $$"""
        WITH redeemed AS (
            UPDATE "Tokens" AS t SET "Status" = '{{nameof(TokenStatus.Redeemed)}}', "RedeemedAt" = r.at, "SuccessorSeed" = r.seed
            FROM unnest(@redeem_ids, @redeem_ats, @redeem_seeds) AS r(id, at, seed)
            WHERE t."Id" = r.id AND t."Status" = '{{nameof(TokenStatus.Valid)}}'
            RETURNING t."Id"),
        inserted AS (
            INSERT INTO "Tokens" ("Id", "AuthorizationId", "ClientId", "SubjectId", "Type", "Status", "Hash", "Scopes",
                "CreatedAt", "ExpiresAt", "RedeemedAt", "SuccessorSeed", "Payload")
            SELECT id, authorization_id, client_id, subject_id, type, status, hash, scopes, created_at, expires_at,
                redeemed_at, successor_seed, payload
            FROM unnest(@ids, @authorization_ids, @client_ids, @subject_ids, @types, @statuses, @hashes, @scopes,
                @created_ats, @expires_ats, @redeemed_ats, @successor_seeds, @payloads, @redeems)
                AS s(id, authorization_id, client_id, subject_id, type, status, hash, scopes, created_at, expires_at,
                redeemed_at, successor_seed, payload, redeems)
            WHERE s.redeems IS NULL OR s.redeems IN (SELECT "Id" FROM redeemed))
        SELECT "Id" FROM redeemed
        """;

    private static async Task<HashSet<Guid>> SaveAsStatementAsync(ServerDbContext db, IReadOnlyCollection<Pending> group)
    {
        var redemptions = group.Select(p => p.Redeems).OfType<Redemption>().ToList();
        var rows = group.SelectMany(p => p.Rows.Select(row => (Row: row, Redeems: p.Redeems?.TokenId))).ToList();
        await db.Database.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(GroupSql, (NpgsqlConnection)db.Database.GetDbConnection())
        {
            Parameters =
            {
                Array("redeem_ids", NpgsqlDbType.Uuid, redemptions.Select(r => r.TokenId)),
                Array("redeem_ats", NpgsqlDbType.TimestampTz, redemptions.Select(r => r.At.ToUniversalTime())),
                Array("redeem_seeds", NpgsqlDbType.Bytea, redemptions.Select(r => r.Seed)),
                Array("ids", NpgsqlDbType.Uuid, rows.Select(r => r.Row.Id)),
                Array("authorization_ids", NpgsqlDbType.Uuid, rows.Select(r => r.Row.AuthorizationId)),
                Array("client_ids", NpgsqlDbType.Text, rows.Select(r => r.Row.ClientId)),
                Array("subject_ids", NpgsqlDbType.Text, rows.Select(r => r.Row.SubjectId)),
                Array("types", NpgsqlDbType.Text, rows.Select(r => r.Row.Type.ToString())),
                Array("statuses", NpgsqlDbType.Text, rows.Select(r => r.Row.Status.ToString())),
                Array("hashes", NpgsqlDbType.Bytea, rows.Select(r => r.Row.Hash)),
                Array("scopes", NpgsqlDbType.Text, rows.Select(r => SpaceSeparatedConverter.Join(r.Row.Scopes))),
                Array("created_ats", NpgsqlDbType.TimestampTz, rows.Select(r => r.Row.CreatedAt.ToUniversalTime())),
                Array("expires_ats", NpgsqlDbType.TimestampTz, rows.Select(r => r.Row.ExpiresAt.ToUniversalTime())),
                Array("redeemed_ats", NpgsqlDbType.TimestampTz, rows.Select(r => r.Row.RedeemedAt?.ToUniversalTime())),
                Array("successor_seeds", NpgsqlDbType.Bytea, rows.Select(r => r.Row.SuccessorSeed)),
                Array("payloads", NpgsqlDbType.Text, rows.Select(r => r.Row.Payload)),
                Array("redeems", NpgsqlDbType.Uuid, rows.Select(r => r.Redeems)),
            },
        };
        var redeemed = new HashSet<Guid>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) redeemed.Add(reader.GetGuid(0));
        }
        catch (PostgresException e) when (!e.IsTransient || e.SqlState == PostgresErrorCodes.DeadlockDetected)
        {
            // Reported as EF Core reports a refused write, which is what callers and the per-row retry expect. A deadlock
            // (two groups each holding a token the other redeems too) is retried the same way: a write alone holds one
            // token's lock and waits for nothing after it, so it cannot deadlock again.
            throw new DbUpdateException("The database refused a token write.", e);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return redeemed;
    }

    /// <summary>SQLite: the same effect through EF Core, in one transaction.</summary>
    private static async Task<HashSet<Guid>> SaveTrackedAsync(ServerDbContext db, IReadOnlyCollection<Pending> group)
    {
        await using var transaction = await db.Database.BeginTransactionAsync();
        var redeemed = new HashSet<Guid>();
        foreach (var redemption in group.Select(p => p.Redeems).OfType<Redemption>())
        {
            var updated = await db.Tokens.Where(t => t.Id == redemption.TokenId && t.Status == TokenStatus.Valid)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, TokenStatus.Redeemed)
                    .SetProperty(t => t.RedeemedAt, redemption.At).SetProperty(t => t.SuccessorSeed, redemption.Seed));
            if (updated == 1) redeemed.Add(redemption.TokenId);
        }
        db.Tokens.AddRange(group.Where(p => p.CommittedWith(redeemed)).SelectMany(p => p.Rows));
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        return redeemed;
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await Task.WhenAll(writers);
    }

    private sealed record Pending(IReadOnlyList<Token> Rows, Redemption? Redeems)
    {
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether this write's rows are in, given the tokens its group redeemed.</summary>
        public bool CommittedWith(HashSet<Guid> redeemed) => Redeems is null || redeemed.Contains(Redeems.TokenId);
    }
}
