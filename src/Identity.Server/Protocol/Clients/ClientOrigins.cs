using System.Collections.Immutable;
using System.Text.Json;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// Whether some client lists an origin in its AllowedCorsOrigins (<see cref="ClientSettings"/>), cached briefly:
/// clients change only through configuration at start-up, so a short time-to-live is the whole invalidation story.
/// </summary>
internal sealed class ClientOrigins(IServiceScopeFactory scopes) : IDisposable
{
    private static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(30);
    // Bounded: Origin headers come from anyone.
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public async ValueTask<bool> IsAllowedAsync(string origin, CancellationToken ct)
    {
        if (origin.Length > 200 || !ClientDefinitionValidator.IsOrigin(origin)) return false;
        if (cache.TryGetValue(origin, out bool allowed)) return allowed;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var candidates = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().AsNoTracking()
            .Where(a => a.Settings != null && a.Settings.Contains(origin)).Select(a => a.Settings!).ToListAsync(ct);
        allowed = candidates.Any(settings => Lists(settings, origin));
        // A refusal is cached only briefly, so that a client declared a moment ago is seen soon.
        cache.Set(origin, allowed, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = allowed ? TimeToLive : TimeSpan.FromSeconds(2), Size = 1 });
        return allowed;
    }

    private static bool Lists(string settings, string origin) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(settings) is { } values
        && ClientSettings.From(values.ToImmutableDictionary()).CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);

    public void Dispose() => cache.Dispose();
}
