using Identity.Server.Persistence;
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
/// taking its client from <see cref="ApplicationSnapshots"/> instead of reading it again; on PostgreSQL the rows stay
/// untracked until something writes them (<see cref="UntrackedRows"/>). An access token's entry read by id outside a
/// transaction is kept on the node (<see cref="AccessTokenEntries"/>) while PostgreSQL's notices of changed rows are heard.
/// </summary>
internal sealed class TokenStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, TokenWrites writes, TokenQueries queries, UntrackedRows untracked,
    ApplicationSnapshots snapshots, ApplicationChanges changes, AccessTokenEntries accessTokens, RowIds ids)
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
        if (untracked.Token(id) is { } read) return read;
        if (TrackedEntities.Find<OpenIddictEntityFrameworkCoreToken<Guid>>(db, t => t.Id == id) is { } tracked) return tracked;
        // Inside a transaction the copies are neither read nor kept: its own changes are not announced until it
        // commits, and rows it wrote may never be.
        var outside = db.Database.CurrentTransaction is null;
        if (outside && accessTokens.Get(id) is { } kept) return await ResolveAsync(db, kept, cancellationToken);
        var begun = accessTokens.Begin();
        var row = await queries.ById(db, id, cancellationToken);
        if (outside && row is not null) accessTokens.Keep(row, begun);
        return await ResolveAsync(db, row, cancellationToken);
    }

    public override async ValueTask<OpenIddictEntityFrameworkCoreToken<Guid>?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var db = await Context.GetDbContextAsync(cancellationToken);
        foreach (var token in writes.Pending)
            if (string.Equals(token.ReferenceId, identifier, StringComparison.Ordinal)) return token;
        if (untracked.TokenByReferenceId(identifier) is { } read) return read;
        if (TrackedEntities.Find<OpenIddictEntityFrameworkCoreToken<Guid>>(db, t => string.Equals(t.ReferenceId, identifier, StringComparison.Ordinal))
            is { } tracked) return tracked;
        return await ResolveAsync(db, await queries.ByReferenceId(db, identifier, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Gives the token (and its authorization) its client, as the base store's Include would. A row read by hand
    /// stays untracked (<see cref="UntrackedRows"/>), its authorization the one this request already has if any.
    /// </summary>
    private async Task<OpenIddictEntityFrameworkCoreToken<Guid>?> ResolveAsync(DbContext db, TokenRead? read, CancellationToken ct)
    {
        if (read is null) return null;
        if (read.User is { } user) untracked.Add(user);
        var token = read.Token;
        if (!read.Untracked)
        {
            token.Application ??= await ApplicationAsync(db, read.ApplicationId, attach: true, ct);
            return token;
        }
        if (token.Authorization is { } authorization)
        {
            if (untracked.KnownAuthorization(db, authorization.Id) is { } known) token.Authorization = known;
            else authorization.Application = await ApplicationAsync(db, read.AuthorizationApplicationId, attach: false, ct);
        }
        token.Application = await ApplicationAsync(db, read.ApplicationId, attach: false, ct);
        untracked.Add(token);
        return token;
    }

    /// <summary>
    /// The client with this row id: the one the context tracks, else this request's untracked copy, else the node's
    /// copy (attached if asked, else kept as this request's), else the row, read once and remembered.
    /// </summary>
    private async Task<OpenIddictEntityFrameworkCoreApplication<Guid>?> ApplicationAsync(DbContext db, Guid? id, bool attach, CancellationToken ct)
    {
        if (id is not { } applicationId) return null;
        var application = untracked.KnownApplication(db, applicationId)
            ?? (changes.CanCache && snapshots.Find(applicationId) is { } cached ? untracked.Add(cached) : null);
        if (application is null)
        {
            var generation = snapshots.Generation;
            application = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().FindAsync([applicationId], ct);
            if (application is not null && changes.CanCache) snapshots.Add(application, generation);
        }
        return attach ? untracked.Attached(db, application) : application;
    }

    /// <summary>A new token's client is the instance this request already has (client authentication), if it has it.</summary>
    public override async ValueTask SetApplicationIdAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, string? identifier, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(identifier, out var id) && untracked.KnownApplication(await Context.GetDbContextAsync(cancellationToken), id) is { } application)
        {
            token.Application = application;
            return;
        }
        await base.SetApplicationIdAsync(token, identifier, cancellationToken);
    }

    /// <summary>
    /// A new token's authorization is the instance this request already read, if it read it; a new token without one
    /// (client_credentials) has nothing to clear, where the base store would look up its entry to find out.
    /// </summary>
    public override async ValueTask SetAuthorizationIdAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, string? identifier, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(identifier, out var id) && untracked.Authorization(id) is { } authorization)
        {
            token.Authorization = authorization;
            return;
        }
        if (string.IsNullOrEmpty(identifier) && token.Id == Guid.Empty && token.Authorization is null) return;
        await base.SetAuthorizationIdAsync(token, identifier, cancellationToken);
    }

    /// <summary>
    /// A new token, made without its constructor (<see cref="SingleRowRead.Blank{T}"/>), whose random concurrency stamp
    /// was a <c>getrandom</c> system call per token: <see cref="CreateAsync"/> stamps it from the identifier it draws.
    /// </summary>
    public override ValueTask<OpenIddictEntityFrameworkCoreToken<Guid>> InstantiateAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(SingleRowRead.Blank<OpenIddictEntityFrameworkCoreToken<Guid>>());

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        // What EF's key generation would have given it on Add: time-ordered, so new rows go to the index's right edge.
        if (token.Id == Guid.Empty) token.Id = ids.Next();
        // A concurrency stamp only has to differ from the row's next ones, which UpdateAsync draws at random.
        token.ConcurrencyToken ??= token.Id.ToString();
        if (!writes.Deferred)
        {
            untracked.Track(await Context.GetDbContextAsync(cancellationToken), token);
            await base.CreateAsync(token, cancellationToken);
            return;
        }
        writes.Pending.Add(token);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        // Still to be inserted, with the values it has now; nobody can have read its concurrency stamp yet, so it keeps it.
        if (writes.Pending.Contains(token)) return;
        untracked.Track(await Context.GetDbContextAsync(cancellationToken), token);
        await base.UpdateAsync(token, cancellationToken);
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        untracked.Track(await Context.GetDbContextAsync(cancellationToken), token);
        await base.DeleteAsync(token, cancellationToken);
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
