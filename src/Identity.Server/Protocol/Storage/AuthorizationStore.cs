using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// OpenIddict's EF Core authorization store, finding an authorization this request already read (every token's
/// lookup joins its authorization: <see cref="UntrackedRows"/>, or tracked) without running EF's change detection
/// first (<see cref="TrackedEntities"/>), and tracking one read untracked before writing it.
/// </summary>
internal sealed class AuthorizationStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, UntrackedRows untracked)
    : OpenIddictEntityFrameworkCoreAuthorizationStore<OpenIddictEntityFrameworkCoreAuthorization<Guid>, OpenIddictEntityFrameworkCoreApplication<Guid>,
        OpenIddictEntityFrameworkCoreToken<Guid>, Guid>(cache, context, options)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreAuthorization<Guid>?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (Guid.TryParse(identifier, out var id) && untracked.KnownAuthorization(await Context.GetDbContextAsync(cancellationToken), id) is { } known)
            return known;
        return await base.FindByIdAsync(identifier, cancellationToken);
    }

    /// <summary>A new authorization's client is the instance this request already has, if it has it.</summary>
    public override async ValueTask SetApplicationIdAsync(OpenIddictEntityFrameworkCoreAuthorization<Guid> authorization, string? identifier,
        CancellationToken cancellationToken)
    {
        if (Guid.TryParse(identifier, out var id) && untracked.KnownApplication(await Context.GetDbContextAsync(cancellationToken), id) is { } application)
        {
            authorization.Application = application;
            return;
        }
        await base.SetApplicationIdAsync(authorization, identifier, cancellationToken);
    }

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreAuthorization<Guid> authorization, CancellationToken cancellationToken)
    {
        await base.CreateAsync(untracked.Track(await Context.GetDbContextAsync(cancellationToken), authorization), cancellationToken);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreAuthorization<Guid> authorization, CancellationToken cancellationToken)
    {
        await base.UpdateAsync(untracked.Track(await Context.GetDbContextAsync(cancellationToken), authorization), cancellationToken);
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreAuthorization<Guid> authorization, CancellationToken cancellationToken)
    {
        await base.DeleteAsync(untracked.Track(await Context.GetDbContextAsync(cancellationToken), authorization), cancellationToken);
    }
}
