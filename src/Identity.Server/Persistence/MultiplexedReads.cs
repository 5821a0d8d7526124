using Npgsql;

namespace Identity.Server.Persistence;

/// <summary>
/// A second pool, multiplexed, for the single-row reads that run outside any transaction (<see cref="SingleRowRead"/>):
/// the token behind every introspection, userinfo and refresh request, and the person behind it. Multiplexing writes the
/// concurrent requests' statements to a few connections together, so PostgreSQL wakes once for several instead of once
/// per request (its CPU per userinfo halved). The main pool stays unmultiplexed: it carries transactions
/// (<see cref="PersistenceRegistration.Tuned"/>), which this one never does. Opened on first use, PostgreSQL only.
/// </summary>
internal sealed class MultiplexedReads(IServiceProvider services) : IAsyncDisposable
{
    private readonly Lazy<NpgsqlDataSource> source = new(() =>
    {
        var builder = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(services)))
        {
            Multiplexing = true,
        };
        // Named apart from the main pool in pg_stat_activity, keeping the operator's name if one was given.
        builder.ApplicationName = string.IsNullOrEmpty(builder.ApplicationName) ? "identity-reads" : builder.ApplicationName + "-reads";
        return NpgsqlDataSource.Create(builder.ConnectionString);
    });

    public NpgsqlCommand Command(string statement) => source.Value.CreateCommand(statement);

    public async ValueTask DisposeAsync()
    {
        if (source.IsValueCreated) await source.Value.DisposeAsync();
    }
}
