using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

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
    private readonly Lazy<PooledDbContextFactory<ServerDbContext>> factory = new(() =>
    {
        var options = new DbContextOptionsBuilder<ServerDbContext>();
        PersistenceRegistration.Configure(options, services, shared: true);
        return new PooledDbContextFactory<ServerDbContext>(options.Options);
    });

    public ServerDbContext Rent() => factory.Value.CreateDbContext();
}
