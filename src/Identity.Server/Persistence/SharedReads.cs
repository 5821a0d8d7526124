using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;

namespace Identity.Server.Persistence;

/// <summary>
/// Contexts for the hot paths' single-statement reads (a presented token's row), from a pool of their own. On
/// PostgreSQL their connections are multiplexed (<see cref="PersistenceRegistration.Tuned"/>): concurrent requests'
/// reads are pipelined over a few physical connections. Never for a write or a transaction — those use the request's
/// <see cref="ServerDbContext"/>. Dispose what <see cref="Rent"/> returns.
/// </summary>
internal sealed class SharedReads(IServiceProvider services)
{
    // Built on first use, so that configuration added by a test host or the command line is seen.
    private readonly Lazy<Func<ServerDbContext>> factory = new(() =>
        services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
            ? Pool<PostgresServerDbContext>(services)
            : Pool<SqliteServerDbContext>(services));

    public ServerDbContext Rent() => factory.Value();

    private static Func<ServerDbContext> Pool<T>(IServiceProvider services) where T : ServerDbContext
    {
        var options = new DbContextOptionsBuilder<T>();
        PersistenceRegistration.Configure(options, services, shared: true);
        var pool = new PooledDbContextFactory<T>(options.Options);
        return pool.CreateDbContext;
    }
}
