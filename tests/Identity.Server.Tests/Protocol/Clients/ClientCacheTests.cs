using System.Net;
using Identity.Server.Protocol.Clients;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Protocol.Clients;

/// <summary>
/// Every node keeps the clients it has read in memory; a change made on one node reaches the others' copies at once
/// (PostgreSQL NOTIFY), not when the copy expires minutes later.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientCacheTests(ServerFixture server)
{
    [Fact]
    public async Task SecretChangedOnOneNode_IsEnforcedOnEveryNode()
    {
        var database = await server.Postgres.CreateDatabaseAsync("client_cache");
        var settings = new Dictionary<string, string?> { ["Identity:Scopes:0:Name"] = TestData.ApiScope };
        await using var a = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings);
        await using var b = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings);
        var client = await new TestData(a).ClientAsync(grants: ["client_credentials"]);
        var onA = new ProtocolClient(a.CreateClient());
        var onB = new ProtocolClient(b.CreateClient());
        // Both nodes have read (and kept) the client.
        Assert.Equal(HttpStatusCode.OK, (await onA.ClientCredentialsAsync(client)).Status);
        Assert.Equal(HttpStatusCode.OK, (await onB.ClientCredentialsAsync(client)).Status);

        var changed = client with { Secret = $"changed-{Guid.NewGuid():N}-{Guid.NewGuid():N}" };
        await using (var scope = a.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<ClientSeeder>().UpsertAsync(new ClientDefinition
            {
                ClientId = client.ClientId, ClientSecret = changed.Secret, Type = "confidential",
                AllowedGrantTypes = ["client_credentials"], AllowedScopes = [TestData.ApiScope],
            }, CancellationToken.None);

        var oldOnA = await onA.ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.Unauthorized, oldOnA.Status);
        Assert.Equal("invalid_client", oldOnA.Error);
        Assert.True(await Eventually.TrueAsync(async () => (await onB.ClientCredentialsAsync(client)).Status == HttpStatusCode.Unauthorized,
            attempts: 50, TimeSpan.FromMilliseconds(100)), "the other node kept accepting the old secret");
        Assert.Equal(HttpStatusCode.OK, (await onB.ClientCredentialsAsync(changed)).Status);
    }
}
