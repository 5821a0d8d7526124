using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// OpenIddict's EF Core application store, reading clients from the process-wide <see cref="ApplicationSnapshots"/>
/// (overrides <c>FindByClientIdAsync</c>): a cached client is attached to the request's context as unchanged, so
/// that OpenIddict's later lookups by id (a new token's application) find it tracked instead of querying again. Every
/// write through the store (<c>CreateAsync</c>, <c>UpdateAsync</c>, <c>DeleteAsync</c>) evicts it on every node.
/// </summary>
internal sealed class CachedApplicationStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, ApplicationSnapshots snapshots, ApplicationChanges changes)
    : OpenIddictEntityFrameworkCoreApplicationStore<OpenIddictEntityFrameworkCoreApplication<Guid>, OpenIddictEntityFrameworkCoreAuthorization<Guid>,
        OpenIddictEntityFrameworkCoreToken<Guid>, Guid>(cache, context, options)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication<Guid>?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        var tracked = TrackedEntities.Of<OpenIddictEntityFrameworkCoreApplication<Guid>>(db)
            .FirstOrDefault(entry => string.Equals(entry.Entity.ClientId, identifier, StringComparison.Ordinal))?.Entity;
        if (tracked is not null) return tracked;
        if (!changes.CanCache) return await base.FindByClientIdAsync(identifier, cancellationToken);
        if (snapshots.Find(identifier) is { } cached)
        {
            db.Attach(cached);
            return cached;
        }
        var generation = snapshots.Generation;
        var application = await base.FindByClientIdAsync(identifier, cancellationToken);
        if (application is not null) snapshots.Add(application, generation);
        return application;
    }

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreApplication<Guid> application, CancellationToken cancellationToken)
    {
        await base.CreateAsync(application, cancellationToken);
        await changes.PublishAsync(application.ClientId, cancellationToken);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication<Guid> application, CancellationToken cancellationToken)
    {
        try
        {
            await base.UpdateAsync(application, cancellationToken);
        }
        finally
        {
            // Every client, not only this one: an update may have changed the client id, and a lost race means another
            // writer changed it. Updates are rare (seeding, administration).
            await changes.PublishAsync(null, cancellationToken);
        }
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreApplication<Guid> application, CancellationToken cancellationToken)
    {
        await base.DeleteAsync(application, cancellationToken);
        await changes.PublishAsync(application.ClientId, cancellationToken);
    }
}
