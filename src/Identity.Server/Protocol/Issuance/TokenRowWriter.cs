using System.Threading.Channels;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Issuance;

/// <summary>
/// Group commit for rows that stand alone — a client_credentials access token has no authorization and nothing else
/// to commit with it. Concurrent requests' rows share one insert statement and one commit instead of one each, which is
/// most of the database's cost of that grant. Each request still waits until its row is committed before the token
/// leaves the server, so a resource server never meets a token whose row is not there yet; and a failed write can only
/// fail the requests in it (with the same error a direct write would give), never make a token valid.
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
    public Task WriteAsync(Token row, CancellationToken ct)
    {
        var pending = new Pending(row);
        if (!queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(TokenRowWriter));
        return pending.Committed.Task.WaitAsync(ct);
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<Pending>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxBatch && queue.Reader.TryRead(out var pending)) group.Add(pending);
            if (group.Count == 0) continue;
            try
            {
                await SaveAsync(group);
                foreach (var pending in group) pending.Committed.TrySetResult();
            }
            catch (DbUpdateException) when (group.Count > 1)
            {
                // A constraint one row broke fails that row's request alone.
                foreach (var pending in group) await SaveAloneAsync(pending);
            }
            catch (Exception e)
            {
                foreach (var pending in group) pending.Committed.TrySetException(e);
            }
        }
    }

    private async Task SaveAloneAsync(Pending pending)
    {
        try
        {
            await SaveAsync([pending]);
            pending.Committed.TrySetResult();
        }
        catch (Exception e)
        {
            pending.Committed.TrySetException(e);
        }
    }

    private async Task SaveAsync(IReadOnlyCollection<Pending> group)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        db.Tokens.AddRange(group.Select(p => p.Row));
        // Not the request's token: a client that hung up must not cancel the rows of the others in the group.
        await db.SaveChangesAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await Task.WhenAll(writers);
    }

    private sealed record Pending(Token Row)
    {
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
