using System.Collections.Concurrent;
using Identity.Server.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// Hears PostgreSQL's notices of changed token, authorization and person rows (triggers of migration
/// <c>RowChangeNotices</c>, on every update or delete, whoever makes it) and drops the <see cref="AccessTokenEntries"/>
/// they concern; entries are kept only while this node listens. The same channel carries the barrier a revocation waits
/// at: a node that revoked asks every listening node (found by its connection's <c>application_name</c>) to answer
/// once it has handled every notice before the question, which PostgreSQL delivers in commit order.
/// </summary>
internal sealed class RowChanges(AccessTokenEntries entries, IServiceProvider services, IOptions<DatabaseOptions> database, TimeProvider time,
    ILogger<RowChanges> logger) : NotificationListener(services, database)
{
    internal const string NoticeChannel = "identity_rows";
    private const string NamePrefix = "identity-rows ";

    /// <summary>How long a revocation waits for the other nodes' answers before it answers anyway (and logs it).</summary>
    internal static readonly TimeSpan BarrierTimeout = TimeSpan.FromSeconds(2);

    private readonly string node = Guid.NewGuid().ToString("N");
    private readonly ConcurrentQueue<string> answers = new();
    private readonly ConcurrentDictionary<long, Barrier> barriers = new();
    private long sequence;

    protected override string Channel => NoticeChannel;

    protected override string? ListenerName => NamePrefix + node;

    /// <summary>
    /// Returns once every node listening now has handled the notices of changes committed before the call, so that
    /// none of them still serves an entry they replaced; after <see cref="BarrierTimeout"/> it returns anyway. Call it
    /// after a revocation commits, before answering.
    /// </summary>
    public async Task AwaitPeersAsync(CancellationToken ct)
    {
        if (!IsPostgres) return;
        if (!IsListening)
        {
            // Not hearing the answers: this node keeps nothing, and the others' triggers' notices are on their way.
            logger.RowChangeBarrierSkipped("not listening");
            return;
        }
        var id = Interlocked.Increment(ref sequence);
        var barrier = new Barrier();
        barriers[id] = barrier;
        try
        {
            await using var connection = NewConnection();
            await connection.OpenAsync(ct);
            // The listeners are taken first: a node that starts listening later starts with nothing kept.
            await using var command = new NpgsqlCommand(
                $"SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '{NamePrefix}%'; SELECT pg_notify(@channel, @payload)",
                connection);
            command.Parameters.AddWithValue("channel", NoticeChannel);
            command.Parameters.AddWithValue("payload", $"b:{node}:{id}");
            var listeners = new HashSet<string>(StringComparer.Ordinal);
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) listeners.Add(reader.GetString(0)[NamePrefix.Length..]);
                await reader.NextResultAsync(ct);
            }
            barrier.Expect(listeners);
            await barrier.Done.WaitAsync(BarrierTimeout, time, ct);
        }
        catch (TimeoutException)
        {
            logger.RowChangeBarrierSkipped($"{barrier.Missing} node(s) did not answer within {BarrierTimeout.TotalSeconds:0} s");
        }
        catch (NpgsqlException exception)
        {
            // The revocation itself committed, and its triggers' notices are on their way: only the wait is lost.
            logger.RowChangeBarrierSkipped(exception.GetType().Name);
        }
        finally
        {
            barriers.TryRemove(id, out _);
        }
    }

    protected override void OnNotice(string payload)
    {
        // t:, a:, u: a row changed; b:node:n a barrier to answer; k:node:n:answerer an answer to one.
        if (payload.Length < 2 || payload[1] != ':') return;
        var body = payload[2..];
        switch (payload[0])
        {
            case 't' or 'a' or 'u':
                entries.Changed(body);
                break;
            case 'b':
                answers.Enqueue($"k:{body}:{node}");
                break;
            case 'k':
                var parts = body.Split(':');
                if (parts.Length == 3 && parts[0] == node && long.TryParse(parts[1], out var id) && barriers.TryGetValue(id, out var barrier))
                    barrier.Answered(parts[2]);
                break;
        }
    }

    protected override void OnListening() => entries.Reset(enabled: true);

    protected override void OnUnheard(Exception exception)
    {
        entries.Reset(enabled: false);
        logger.RowChangesUnheard(exception.GetType().Name);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        entries.Reset(enabled: false);
        await base.StopAsync(cancellationToken);
    }

    // Answers go out on the listening connection, after the notices before them were handled.
    protected override async Task BeforeWaitingAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        while (answers.TryDequeue(out var answer))
        {
            await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
            command.Parameters.AddWithValue("channel", NoticeChannel);
            command.Parameters.AddWithValue("payload", answer);
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>One barrier's answers: done when every node listening at the question has answered.</summary>
    private sealed class Barrier
    {
        private readonly Lock gate = new();
        private readonly HashSet<string> answered = new(StringComparer.Ordinal);
        private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private HashSet<string>? expected;

        public Task Done => done.Task;

        public int Missing
        {
            get { lock (gate) return expected is null ? 0 : expected.Count(n => !answered.Contains(n)); }
        }

        public void Expect(HashSet<string> nodes)
        {
            lock (gate) expected = nodes;
            Check();
        }

        public void Answered(string node)
        {
            lock (gate) answered.Add(node);
            Check();
        }

        private void Check()
        {
            lock (gate)
                if (expected is not null && expected.IsSubsetOf(answered)) done.TrySetResult();
        }
    }
}
