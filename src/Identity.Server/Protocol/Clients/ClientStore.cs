using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// Client lookups on the hot paths, cached briefly. Clients change only through configuration at start-up (or an
/// operator's SQL), so a short time-to-live is the whole invalidation story; see docs/operations.md.
/// </summary>
internal sealed class ClientStore(IServiceScopeFactory scopes) : IDisposable
{
    private static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(30);
    // Bounded: Origin headers and client ids come from anyone.
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public async ValueTask<Client?> FindAsync(string clientId, CancellationToken ct)
    {
        if (clientId.Length > 100) return null;
        if (cache.TryGetValue(("client", clientId), out Client? cached)) return cached;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var client = await db.Clients.AsNoTracking().SingleOrDefaultAsync(c => c.ClientId == clientId, ct);
        // Only found clients are cached, so that a client created a moment ago is seen at once.
        if (client is not null) cache.Set(("client", clientId), client, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeToLive, Size = 1 });
        return client;
    }

    /// <summary>Whether any client lists this exact origin in AllowedCorsOrigins.</summary>
    public async ValueTask<bool> IsAllowedOriginAsync(string origin, CancellationToken ct)
    {
        if (origin.Length > 200 || !ClientDefinitionValidator.IsOrigin(origin)) return false;
        if (cache.TryGetValue(("origin", origin), out bool allowed)) return allowed;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var pattern = $"%{origin}%";
        var candidates = await db.Database
            .SqlQuery<string>($"""SELECT "AllowedCorsOrigins" AS "Value" FROM "Clients" WHERE "AllowedCorsOrigins" LIKE {pattern}""")
            .ToListAsync(ct);
        allowed = candidates.Any(list => list.Split(' ').Contains(origin, StringComparer.OrdinalIgnoreCase));
        cache.Set(("origin", origin), allowed, new MemoryCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = allowed ? TimeToLive : TimeSpan.FromSeconds(2),
            Size = 1,
        });
        return allowed;
    }

    public void Dispose() => cache.Dispose();
}
