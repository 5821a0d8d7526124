using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// OpenIddict's EF Core authorization store, finding an authorization this request already read (every token's
/// lookup joins its authorization) without running EF's change detection first (<see cref="TrackedEntities"/>).
/// </summary>
internal sealed class AuthorizationStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options)
    : OpenIddictEntityFrameworkCoreAuthorizationStore<OpenIddictEntityFrameworkCoreAuthorization<Guid>, OpenIddictEntityFrameworkCoreApplication<Guid>,
        OpenIddictEntityFrameworkCoreToken<Guid>, Guid>(cache, context, options)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreAuthorization<Guid>?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (Guid.TryParse(identifier, out var id))
            foreach (var entry in TrackedEntities.Of<OpenIddictEntityFrameworkCoreAuthorization<Guid>>(await Context.GetDbContextAsync(cancellationToken)))
                if (entry.Entity.Id == id) return entry.Entity;
        return await base.FindByIdAsync(identifier, cancellationToken);
    }
}
