using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Persistence;

/// <summary>
/// Listens to one PostgreSQL <c>NOTIFY</c> channel on a connection of its own, for what other nodes changed, and listens
/// again 5 s after the connection is lost; what a node missed while it was not listening is unknown, so each start of
/// listening is told (<see cref="OnListening"/>). SQLite has one node: nothing to hear.
/// </summary>
internal abstract class NotificationListener(IServiceProvider services, IOptions<DatabaseOptions> database) : BackgroundService
{
    private volatile bool listening;

    protected bool IsPostgres => database.Value.Provider == DatabaseProvider.Postgres;

    /// <summary>Whether this node hears the other nodes' notices now.</summary>
    public bool IsListening => listening;

    protected abstract string Channel { get; }

    /// <summary>A new connection to the database, outside EF Core.</summary>
    protected NpgsqlConnection NewConnection() => new(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(services)));

    /// <summary>The name the listening connection gives PostgreSQL (<c>application_name</c>), if it must be found there.</summary>
    protected virtual string? ListenerName => null;

    /// <summary>A notice, on the connection's thread as it arrives.</summary>
    protected abstract void OnNotice(string payload);

    /// <summary>Listening has (re)started: whatever changed before is unknown.</summary>
    protected abstract void OnListening();

    /// <summary>The connection is lost; the next try is in 5 s.</summary>
    protected abstract void OnUnheard(Exception exception);

    /// <summary>
    /// Before each wait for notices, once listening: the work the notices that woke it ask for. The listening connection
    /// is free to send on meanwhile.
    /// </summary>
    protected virtual Task BeforeWaitingAsync(NpgsqlConnection connection, CancellationToken ct) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!IsPostgres) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = NewConnection();
                // Unpooled: a pooled connection would outlive the listener, idle under its name, and be waited for.
                if (ListenerName is { } name)
                    connection.ConnectionString = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { ApplicationName = name, Pooling = false }.ConnectionString;
                connection.Notification += (_, e) => OnNotice(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(stoppingToken);
                OnListening();
                listening = true;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await BeforeWaitingAsync(connection, stoppingToken);
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
                OnUnheard(exception);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
            finally
            {
                listening = false;
            }
        }
    }
}
