using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Clients;

/// <summary>
/// Seeding is what every node does at start: nodes starting together write the same new client or scope at the same
/// moment, and each must start; a client that is invalid is still refused.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientSeederTests(ServerFixture server)
{
    [Fact]
    public async Task NodesSeedingOneNewClientTogether_AllSucceed_AndWriteOneRow()
    {
        for (var round = 0; round < 5; round++)
        {
            var definition = Confidential($"seeded-{Guid.NewGuid():N}");

            await InEightScopesAtOnceAsync(services => services.GetRequiredService<ClientSeeder>().UpsertAsync(definition, CancellationToken.None));

            Assert.Equal(1, await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>()
                .CountAsync(a => a.ClientId == definition.ClientId)));
        }
    }

    [Fact]
    public async Task ANodeThatLosesTheRaceForOneClient_StillSeedsTheClientsAfterIt()
    {
        for (var round = 0; round < 5; round++)
        {
            var shared = Confidential($"seeded-{Guid.NewGuid():N}");
            // A node of a newer deployment declares a client the others do not have yet: the refused insert of the shared
            // client must not take it down with it.
            var own = Enumerable.Range(0, 8).Select(_ => Confidential($"own-{Guid.NewGuid():N}")).ToArray();
            var next = -1;

            await InEightScopesAtOnceAsync(services => new ClientSeeder(services.GetRequiredService<IOpenIddictApplicationManager>(),
                Options.Create(new List<ClientDefinition> { shared, own[Interlocked.Increment(ref next)] }),
                NullLogger<ClientSeeder>.Instance).SeedAsync(CancellationToken.None));

            var ids = own.Select(c => c.ClientId).Append(shared.ClientId).ToArray();
            var rows = await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>()
                .Where(a => ids.Contains(a.ClientId!)).Select(a => a.ClientId!).ToListAsync());
            Assert.Equal(ids.Order(), rows.Order());
        }
    }

    private static ClientDefinition Confidential(string clientId) => new()
    {
        ClientId = clientId, ClientSecret = $"{Guid.NewGuid():N}{Guid.NewGuid():N}", Type = "confidential",
        AllowedGrantTypes = ["client_credentials"], AllowedScopes = [TestData.ApiScope],
    };

    [Fact]
    public async Task NodesSeedingOneNewScopeTogether_AllSucceed_AndWriteOneRow()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"seeded-{Guid.NewGuid():N}";
            var catalog = new ScopeCatalog(Options.Create(new List<ScopeDefinition> { new() { Name = name, Resources = ["https://api.seeded.test"] } }));

            await InEightScopesAtOnceAsync(services => new ScopeSeeder(services.GetRequiredService<IOpenIddictScopeManager>(), catalog)
                .SeedAsync(CancellationToken.None));

            Assert.Equal(1, await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreScope<Guid>>().CountAsync(s => s.Name == name)));
        }
    }

    [Fact]
    public async Task ANodeThatLosesTheRaceForOneScope_StillSeedsTheScopesAfterIt()
    {
        for (var round = 0; round < 20; round++)
        {
            var shared = $"seeded-{Guid.NewGuid():N}";
            var own = Enumerable.Range(0, 8).Select(_ => $"own-{Guid.NewGuid():N}").ToArray();
            var next = -1;

            await InEightScopesAtOnceAsync(services => new ScopeSeeder(services.GetRequiredService<IOpenIddictScopeManager>(),
                new ScopeCatalog(Options.Create(new List<ScopeDefinition> { new() { Name = shared }, new() { Name = own[Interlocked.Increment(ref next)] } })))
                .SeedAsync(CancellationToken.None));

            var names = own.Append(shared).ToArray();
            var rows = await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreScope<Guid>>()
                .Where(s => names.Contains(s.Name!)).Select(s => s.Name!).ToListAsync());
            Assert.Equal(names.Order(), rows.Order());
        }
    }

    /// <summary>The same seeding from eight request scopes at once, as nodes starting together do.</summary>
    private Task InEightScopesAtOnceAsync(Func<IServiceProvider, Task> seed) =>
        Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await using var scope = server.Services.CreateAsyncScope();
            await seed(scope.ServiceProvider);
        })));

    [Fact]
    public async Task AnInvalidNewClient_IsStillRefused()
    {
        await using var scope = server.Services.CreateAsyncScope();
        var seeder = scope.ServiceProvider.GetRequiredService<ClientSeeder>();

        await Assert.ThrowsAsync<OpenIddictExceptions.ValidationException>(() => seeder.UpsertAsync(new ClientDefinition
        {
            ClientId = $"no-secret-{Guid.NewGuid():N}", Type = "confidential", AllowedGrantTypes = ["client_credentials"],
        }, CancellationToken.None));
    }
}
