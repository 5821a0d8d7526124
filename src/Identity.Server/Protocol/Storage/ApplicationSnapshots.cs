using System.Collections.Concurrent;
using Identity.Server.Persistence;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// Every node's copy of the applications (clients) it has read, by client id: OpenIddict's own entity cache lives for
/// one request, so without this every token, introspection and revocation request reads its client's row again.
/// A change made through OpenIddict's manager on any node evicts the entry everywhere (<see cref="ApplicationChanges"/>);
/// an entry also expires after <see cref="TimeToLive"/>, the bound on how long a change made by hand in the database
/// can go unseen.
/// </summary>
internal sealed class ApplicationSnapshots(TimeProvider time)
{
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Snapshot> byClientId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, string> clientIdById = new();
    private long generation;

    /// <summary>A fresh, untracked copy of the cached application, or null.</summary>
    public OpenIddictEntityFrameworkCoreApplication<Guid>? Find(string clientId)
    {
        if (!byClientId.TryGetValue(clientId, out var snapshot)) return null;
        if (snapshot.ExpiresAt > time.GetUtcNow()) return snapshot.Copy();
        byClientId.TryRemove(new KeyValuePair<string, Snapshot>(clientId, snapshot));
        return null;
    }

    /// <summary>A fresh, untracked copy of the cached application with this row id, or null.</summary>
    public OpenIddictEntityFrameworkCoreApplication<Guid>? Find(Guid id) =>
        clientIdById.TryGetValue(id, out var clientId) && Find(clientId) is { } application && application.Id == id ? application : null;

    /// <summary>The generation to pass to <see cref="Add"/>: an eviction in between makes that add a no-op.</summary>
    public long Generation => Interlocked.Read(ref generation);

    /// <summary>Remembers an application read from the database, unless something was evicted since it was read.</summary>
    public void Add(OpenIddictEntityFrameworkCoreApplication<Guid> application, long readAtGeneration)
    {
        if (application.ClientId is not { } clientId || readAtGeneration != Generation) return;
        byClientId[clientId] = new Snapshot(Snapshot.CopyOf(application), time.GetUtcNow() + TimeToLive);
        clientIdById[application.Id] = clientId;
    }

    public void Evict(string? clientId)
    {
        Interlocked.Increment(ref generation);
        if (clientId is null)
        {
            byClientId.Clear();
            clientIdById.Clear();
        }
        else byClientId.TryRemove(clientId, out _);
    }

    private sealed record Snapshot(OpenIddictEntityFrameworkCoreApplication<Guid> Application, DateTimeOffset ExpiresAt)
    {
        public OpenIddictEntityFrameworkCoreApplication<Guid> Copy() => CopyOf(Application);

        /// <summary>
        /// Every column, into an entity made without its constructor (<see cref="SingleRowRead.Blank{T}"/>): a copy is
        /// handed out on every request, and the constructor's random concurrency stamp was a system call each time.
        /// </summary>
        public static OpenIddictEntityFrameworkCoreApplication<Guid> CopyOf(OpenIddictEntityFrameworkCoreApplication<Guid> source)
        {
            var copy = SingleRowRead.Blank<OpenIddictEntityFrameworkCoreApplication<Guid>>();
            copy.Id = source.Id;
            copy.ApplicationType = source.ApplicationType;
            copy.ClientId = source.ClientId;
            copy.ClientSecret = source.ClientSecret;
            copy.ClientType = source.ClientType;
            copy.ConcurrencyToken = source.ConcurrencyToken;
            copy.ConsentType = source.ConsentType;
            copy.DisplayName = source.DisplayName;
            copy.DisplayNames = source.DisplayNames;
            copy.JsonWebKeySet = source.JsonWebKeySet;
            copy.Permissions = source.Permissions;
            copy.PostLogoutRedirectUris = source.PostLogoutRedirectUris;
            copy.Properties = source.Properties;
            copy.RedirectUris = source.RedirectUris;
            copy.Requirements = source.Requirements;
            copy.Settings = source.Settings;
            return copy;
        }
    }
}
