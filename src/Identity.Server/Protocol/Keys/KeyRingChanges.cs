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
    ILogger<KeyRingChanges> logger) : BackgroundService
{
    private const string Channel = "identity_keys";
    private volatile bool listening;

    /// <summary>Whether this node hears the keys other nodes create.</summary>
    public bool IsListening => listening;

    /// <summary>Sends the notice in <paramref name="db"/>'s transaction: PostgreSQL delivers it when that commits.</summary>
    public static Task NotifyAsync(ServerDbContext db, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync($"SELECT pg_notify('{Channel}', '')", ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Value.Provider != DatabaseProvider.Postgres) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(services)));
                // Marked stale at once, on the connection's thread: a request arriving while the reload below runs waits for it.
                connection.Notification += (_, _) => loader.MarkStale();
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(stoppingToken);
                // Keys created while this node was not listening are unknown: read the ring again.
                loader.MarkStale();
                listening = true;
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (ring.Current is not null && loader.IsStale) await loader.GetAsync(stoppingToken);
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
            {
                listening = false;
                logger.KeyChangesUnheard(exception.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
            finally
            {
                listening = false;
            }
        }
    }
}
