using Identity.Server.Protocol.Storage;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>
/// OpenIddict's per-request entity caches are off: the stores keep their own per-request and per-node copies, and a
/// request's managers get one shared, never-called stand-in instead of a new <c>MemoryCache</c> per entity type.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EntityCachingTests(ServerFixture server)
{
    [Fact]
    public async Task EntityCaching_IsOff_AndNoRequestBuildsACacheOfItsOwn()
    {
        Assert.True(server.Services.GetRequiredService<IOptionsMonitor<OpenIddictCoreOptions>>().CurrentValue.DisableEntityCaching);

        await using var first = server.Services.CreateAsyncScope();
        await using var second = server.Services.CreateAsyncScope();
        AssertOneSharedStandIn<IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication<Guid>>>(first, second);
        AssertOneSharedStandIn<IOpenIddictAuthorizationCache<OpenIddictEntityFrameworkCoreAuthorization<Guid>>>(first, second);
        AssertOneSharedStandIn<IOpenIddictScopeCache<OpenIddictEntityFrameworkCoreScope<Guid>>>(first, second);
        AssertOneSharedStandIn<IOpenIddictTokenCache<OpenIddictEntityFrameworkCoreToken<Guid>>>(first, second);
    }

    private static void AssertOneSharedStandIn<TCache>(AsyncServiceScope first, AsyncServiceScope second) where TCache : class
    {
        var cache = first.ServiceProvider.GetRequiredService<TCache>();
        Assert.Equal(typeof(NoEntityCache<>), cache.GetType().GetGenericTypeDefinition());
        Assert.Same(cache, second.ServiceProvider.GetRequiredService<TCache>());
    }
}
