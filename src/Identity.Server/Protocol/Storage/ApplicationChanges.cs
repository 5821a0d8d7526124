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
    ILogger<ApplicationChanges> logger) : NotificationListener(services, database)
{
    protected override string Channel => "identity_applications";

    /// <summary>Whether entries may be cached: on PostgreSQL only, while this node hears other nodes' changes.</summary>
    public bool CanCache => IsPostgres && IsListening;

    public async Task PublishAsync(string? clientId, CancellationToken ct)
    {
        snapshots.Evict(clientId);
        if (!IsPostgres) return;
        await using var connection = NewConnection();
        await connection.OpenAsync(ct);
        await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
        notify.Parameters.AddWithValue("channel", Channel);
        notify.Parameters.AddWithValue("payload", clientId ?? "");
        await notify.ExecuteNonQueryAsync(ct);
    }

    protected override void OnNotice(string payload) => snapshots.Evict(payload.Length == 0 ? null : payload);

    // Whatever changed while this node was not listening is unknown: start from nothing.
    protected override void OnListening() => snapshots.Evict(null);

    protected override void OnUnheard(Exception exception)
    {
        snapshots.Evict(null);
        logger.ApplicationChangesUnheard(exception.GetType().Name);
    }
}
