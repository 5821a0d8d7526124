using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// OpenIddict's EF Core token store, holding back the rows of a sign-in's new tokens while <see cref="TokenWrites"/>
/// says so: <c>CreateAsync</c> only adds the row to the request's context, and <c>UpdateAsync</c> of a row not
/// written yet (a reference token's payload) changes it there. <see cref="WriteTokenRows"/> then writes them with
/// one <c>SaveChanges</c> — one batched command — where OpenIddict would make a round trip, and a commit, per call.
/// </summary>
internal sealed class DeferredTokenStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, TokenWrites writes)
    : OpenIddictEntityFrameworkCoreTokenStore<OpenIddictEntityFrameworkCoreToken<Guid>, OpenIddictEntityFrameworkCoreApplication<Guid>,
        OpenIddictEntityFrameworkCoreAuthorization<Guid>, Guid>(cache, context, options)
{
    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        if (!writes.Deferred)
        {
            await base.CreateAsync(token, cancellationToken);
            return;
        }
        (await Context.GetDbContextAsync(cancellationToken)).Add(token);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreToken<Guid> token, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (db.Entry(token).State == EntityState.Added)
        {
            // Still to be inserted, with the values it has now; a new concurrency token as the base store would set.
            token.ConcurrencyToken = Guid.NewGuid().ToString();
            return;
        }
        await base.UpdateAsync(token, cancellationToken);
    }
}

/// <summary>Whether the token rows created now wait for <see cref="WriteTokenRows"/> (one per request).</summary>
internal sealed class TokenWrites
{
    public bool Deferred { get; set; }
}
