using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// OpenIddict's EF Core token store with two changes. It holds back the rows of a sign-in's new tokens while
/// <see cref="TokenWrites"/> says so: <c>CreateAsync</c> only keeps the row in <see cref="TokenWrites.Pending"/> (not
/// in EF's change tracker, whose graph attach and change detection would cost more than the rest of the write), and
/// <c>UpdateAsync</c> of a row not written yet (a reference token's payload) changes it there;
/// <see cref="WriteTokenRows"/> then writes them in one command where OpenIddict would make a round trip, and a
/// commit, per call. And its two hot lookups (by id: every JWT's entry; by reference
/// id: every refresh token) are one read each (<see cref="TokenQueries"/>), joining the token's authorization but
/// taking its client from <see cref="ApplicationSnapshots"/> instead of reading it again.
/// </summary>
internal sealed class TokenStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, TokenWrites writes, TokenQueries queries, ApplicationSnapshots snapshots,
    ApplicationChanges changes)
    : OpenIddictEntityFrameworkCoreTokenStore<OpenIddictEntityFrameworkCoreToken<Guid>, OpenIddictEntityFrameworkCoreApplication<Guid>,
        OpenIddictEntityFrameworkCoreAuthorization<Guid>, Guid>(cache, context, options)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreToken<Guid>?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (!Guid.TryParse(identifier, out var id)) return null;
        foreach (var token in writes.Pending)
            if (token.Id == id) return token;
        foreach (var entry in TrackedEntities.Of<OpenIddictEntityFrameworkCoreToken<Guid>>(db))
            if (entry.Entity.Id == id) return entry.Entity;
        return await TrackAsync(db, await queries.ById(db, id, cancellationToken), cancellationToken);
    }

    public override async ValueTask<OpenIddictEntityFrameworkCoreToken<Guid>?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var db = await Context.GetDbContextAsync(cancellationToken);
        foreach (var token in writes.Pending)
            if (string.Equals(token.ReferenceId, identifier, StringComparison.Ordinal)) return token;
        foreach (var entry in TrackedEntities.Of<OpenIddictEntityFrameworkCoreToken<Guid>>(db))
            if (string.Equals(entry.Entity.ReferenceId, identifier, StringComparison.Ordinal)) return entry.Entity;
        return await TrackAsync(db, await queries.ByReferenceId(db, identifier, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Gives the token (and its authorization) its client, as the base store's Include would, and makes the context
    /// track what was read untracked: later lookups in this request then find it, and an update writes the row whole.
    /// An authorization the context already tracks is used as it is (the context allows one instance per key).
    /// </summary>
    private async Task<OpenIddictEntityFrameworkCoreToken<Guid>?> TrackAsync(DbContext db, TokenRead? read, CancellationToken ct)
    {
        if (read is null) return null;
        var token = read.Token;
        if (!read.Untracked)
        {
            token.Application ??= await ApplicationAsync(db, read.ApplicationId, ct);
            return token;
        }
        if (token.Authorization is { } authorization)
        {
            var tracked = TrackedEntities.Of<OpenIddictEntityFrameworkCoreAuthorization<Guid>>(db).FirstOrDefault(e => e.Entity.Id == authorization.Id);
            if (tracked is not null) token.Authorization = tracked.Entity;
            else
            {
                authorization.Application = await ApplicationAsync(db, read.AuthorizationApplicationId, ct);
                TrackedEntities.TrackUnchanged(db, authorization, ("ApplicationId", read.AuthorizationApplicationId));
            }
        }
        token.Application = await ApplicationAsync(db, read.ApplicationId, ct);
        TrackedEntities.TrackUnchanged(db, token, ("ApplicationId", read.ApplicationId), ("AuthorizationId", token.Authorization?.Id));
        return token;
    }

    /// <summary>
    /// The client with this row id as the context tracks it: already tracked, else the node's copy attached, else the
    /// row, read once and remembered.
    /// </summary>
    private async Task<OpenIddictEntityFrameworkCoreApplication<Guid>?> ApplicationAsync(DbContext db, Guid? id, CancellationToken ct)
    {
        if (id is not { } applicationId) return null;
        foreach (var entry in TrackedEntities.Of<OpenIddictEntityFrameworkCoreApplication<Guid>>(db))
            if (entry.Entity.Id == applicationId) return entry.Entity;
        if (changes.CanCache && snapshots.Find(applicationId) is { } cached)
        {
            db.Attach(cached);
            return cached;
        }
        var generation = snapshots.Generation;
        var application = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().FindAsync([applicationId], ct);
        if (application is not null && changes.CanCache) snapshots.Add(application, generation);
        return application;
    }

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        if (!writes.Deferred)
        {
            await base.CreateAsync(token, cancellationToken);
            return;
        }
        // What EF's key generation would have given it on Add: time-ordered, so new rows go to the index's right edge.
        if (token.Id == Guid.Empty) token.Id = Guid.CreateVersion7();
        writes.Pending.Add(token);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        if (writes.Pending.Contains(token))
        {
            // Still to be inserted, with the values it has now; a new concurrency token as the base store would set.
            token.ConcurrencyToken = Guid.NewGuid().ToString();
            return;
        }
        await base.UpdateAsync(token, cancellationToken);
    }
}

/// <summary>
/// Whether the token rows created now wait for <see cref="WriteTokenRows"/>, and the rows waiting (one per request).
/// </summary>
internal sealed class TokenWrites
{
    public bool Deferred { get; set; }
    public List<OpenIddictEntityFrameworkCoreToken<Guid>> Pending { get; } = [];
}
