using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Server.Tests.Protocol.Token;

[Collection(ServerCollection.Name)]
public sealed class ClientCredentialsGrantTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task ConfidentialClient_GetsAnAccessTokenForItself_WithoutRefreshOrIdToken()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope]);

        var result = await protocol.ClientCredentialsAsync(client, TestData.ApiScope);

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Null(result.RefreshToken);
        Assert.Null(result.IdToken);
        var token = new JsonWebToken(result.AccessToken);
        Assert.Equal(client.ClientId, token.Subject);
        Assert.Equal(client.ClientId, token.GetPayloadValue<string>("client_id"));
        Assert.Equal(TestData.ApiResource, token.Audiences.Single());
        Assert.Equal(TestData.ApiScope, token.GetPayloadValue<string>("scope"));
    }

    [Fact]
    public async Task UserScopes_AreInvalidScope()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        Assert.Equal("invalid_scope", (await protocol.ClientCredentialsAsync(client, "openid")).Error);
        Assert.Equal("invalid_scope", (await protocol.ClientCredentialsAsync(client, "offline_access")).Error);
    }

    [Fact]
    public async Task PublicClient_IsUnauthorizedClient()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], isPublic: true);
        var result = await protocol.ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unauthorized_client", result.Error);
    }

    [Fact]
    public async Task ReferenceFormatClient_GetsAnOpaqueToken()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], format: "reference");
        var result = await protocol.ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.DoesNotContain('.', result.AccessToken!);
        Assert.True(result.AccessToken!.Length >= 43);
    }

    [Fact]
    public async Task Es256Configured_SignsWithEs256()
    {
        await using var host = server.WithSettings(new Dictionary<string, string?> { ["Identity:Tokens:SigningAlgorithm"] = "ES256" });
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var client = await new TestData(host).ClientAsync(grants: ["client_credentials"]);

        var result = await hostProtocol.ClientCredentialsAsync(client);

        Assert.Equal("ES256", new JsonWebToken(result.AccessToken).Alg);
    }

    [Fact]
    public async Task ConcurrentGrants_EachTokenIsKnownTheMomentItIsIssued()
    {
        // Rows of concurrent client_credentials grants are committed in groups; none may leave before its row is in.
        var (api, client) = (await data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true), await data.ClientAsync(grants: ["client_credentials"]));

        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            var issued = await protocol.ClientCredentialsAsync(client);
            Assert.Equal(HttpStatusCode.OK, issued.Status);
            return (await protocol.IntrospectAsync(api, issued.AccessToken!)).Json.GetProperty("active").GetBoolean();
        }));

        Assert.All(answers, Assert.True);
    }
}
