using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// Tells every node that keys were created, so that each reloads its ring before its next request (SPEC §2: keys
/// "shared by all nodes"): a key created active at once — ES256 switched on, or no key active after a quiet spell —
/// signs tokens on its node at once, and the others would refuse them until their periodic reload. On PostgreSQL through
/// <c>NOTIFY</c>, sent in the transaction that inserts the keys and so delivered at its commit, and <c>LISTEN</c> on a
/// connection of each node's own; while that connection is down, the periodic reload is all there is. SQLite has one node.
/// </summary>
internal sealed class KeyRingChanges(KeyRing ring, KeyRingLoader loader, IServiceProvider services, IOptions<DatabaseOptions> database,
    ILogger<KeyRingChanges> logger) : NotificationListener(services, database)
{
    private const string NoticeChannel = "identity_keys";

    protected override string Channel => NoticeChannel;

    /// <summary>Sends the notice in <paramref name="db"/>'s transaction: PostgreSQL delivers it when that commits.</summary>
    public static Task NotifyAsync(ServerDbContext db, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync($"SELECT pg_notify('{NoticeChannel}', '')", ct);

    // Marked stale at once, on the connection's thread: a request arriving while the reload runs waits for it.
    protected override void OnNotice(string payload) => loader.MarkStale();

    // Keys created while this node was not listening are unknown: read the ring again.
    protected override void OnListening() => loader.MarkStale();

    protected override void OnUnheard(Exception exception) => logger.KeyChangesUnheard(exception.GetType().Name);

    protected override async Task BeforeWaitingAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (ring.Current is not null && loader.IsStale) await loader.GetAsync(ct);
    }
}
