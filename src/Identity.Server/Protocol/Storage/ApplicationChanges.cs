using Identity.Server.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// Tells every node that a client changed, so that each evicts its <see cref="ApplicationSnapshots"/> entry: on
/// PostgreSQL through <c>NOTIFY</c>/<c>LISTEN</c> on one channel (each node listens on a connection of its own; while
/// that connection is down, nothing is cached). SQLite has no such notice, and its other writers are the CLI verbs'
/// processes (<c>remove-client</c> while the server runs): there nothing is cached, a read costs microseconds.
/// </summary>
internal sealed class ApplicationChanges(ApplicationSnapshots snapshots, IServiceProvider services, IOptions<DatabaseOptions> database,
    ILogger<ApplicationChanges> logger) : BackgroundService
{
    private const string Channel = "identity_applications";
    private volatile bool listening;

    private bool IsPostgres => database.Value.Provider == DatabaseProvider.Postgres;

    /// <summary>Whether entries may be cached: on PostgreSQL only, while this node hears other nodes' changes.</summary>
    public bool CanCache => IsPostgres && listening;

    public async Task PublishAsync(string? clientId, CancellationToken ct)
    {
        snapshots.Evict(clientId);
        if (!IsPostgres) return;
        await using var connection = new NpgsqlConnection(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(services)));
        await connection.OpenAsync(ct);
        await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
        notify.Parameters.AddWithValue("channel", Channel);
        notify.Parameters.AddWithValue("payload", clientId ?? "");
        await notify.ExecuteNonQueryAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!IsPostgres) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(services)));
                connection.Notification += (_, e) => snapshots.Evict(e.Payload.Length == 0 ? null : e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(stoppingToken);
                // Whatever changed while this node was not listening is unknown: start from nothing.
                snapshots.Evict(null);
                listening = true;
                while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
            {
                listening = false;
                snapshots.Evict(null);
                logger.ApplicationChangesUnheard(exception.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
            finally
            {
                listening = false;
            }
        }
    }
}
