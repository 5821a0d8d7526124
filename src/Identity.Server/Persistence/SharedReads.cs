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
    private PooledDbContextFactory<ServerDbContext>? factory;

    public ServerDbContext Rent() => (factory ??= new PooledDbContextFactory<ServerDbContext>(Options())).CreateDbContext();

    private DbContextOptions<ServerDbContext> Options()
    {
        var builder = new DbContextOptionsBuilder<ServerDbContext>();
        PersistenceRegistration.Configure(builder, services, shared: true);
        return builder.Options;
    }
}
