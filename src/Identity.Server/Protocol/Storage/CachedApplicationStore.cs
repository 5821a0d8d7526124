using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// OpenIddict's EF Core application store, reading clients from the process-wide <see cref="ApplicationSnapshots"/>
/// (overrides <c>FindByClientIdAsync</c> and <c>FindByIdAsync</c>): a cached client is handed out untracked, one
/// instance per request (<see cref="UntrackedRows"/>), and tracked only when a row that refers to it is written.
/// Every write through the store (<c>CreateAsync</c>, <c>UpdateAsync</c>, <c>DeleteAsync</c>) evicts it on every node.
/// </summary>
internal sealed class CachedApplicationStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, ApplicationSnapshots snapshots, ApplicationChanges changes,
    UntrackedRows untracked)
    : OpenIddictEntityFrameworkCoreApplicationStore<OpenIddictEntityFrameworkCoreApplication<Guid>, OpenIddictEntityFrameworkCoreAuthorization<Guid>,
        OpenIddictEntityFrameworkCoreToken<Guid>, Guid>(cache, context, options)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication<Guid>?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (TrackedEntities.Find<OpenIddictEntityFrameworkCoreApplication<Guid>>(db, a => string.Equals(a.ClientId, identifier, StringComparison.Ordinal))
            is { } tracked) return tracked;
        if (!changes.CanCache) return await base.FindByClientIdAsync(identifier, cancellationToken);
        if (untracked.ApplicationByClientId(identifier) is { } known) return known;
        if (snapshots.Find(identifier) is { } cached) return untracked.Add(cached);
        var generation = snapshots.Generation;
        var application = await base.FindByClientIdAsync(identifier, cancellationToken);
        if (application is not null) snapshots.Add(application, generation);
        return application;
    }

    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication<Guid>?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (!Guid.TryParse(identifier, out var id) || !changes.CanCache) return await base.FindByIdAsync(identifier, cancellationToken);
        if (untracked.KnownApplication(db, id) is { } known) return known;
        if (snapshots.Find(id) is { } cached) return untracked.Add(cached);
        return await base.FindByIdAsync(identifier, cancellationToken);
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
