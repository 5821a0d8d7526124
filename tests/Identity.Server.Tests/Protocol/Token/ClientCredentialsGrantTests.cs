using System.Net;
using System.Security.Cryptography;
using System.Text;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.EntityFrameworkCore.Models;

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
    public async Task AccessToken_IsRfc9068_WithItsRowIdAsJti_AndNotBefore()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope]);

        var token = new JsonWebToken((await protocol.ClientCredentialsAsync(client, TestData.ApiScope)).AccessToken);

        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal(token.IssuedAt, token.ValidFrom);
        var rows = await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking()
            .Where(t => t.Subject == client.ClientId).Select(t => t.Id).ToListAsync());
        Assert.Equal(Guid.Parse(token.Id), Assert.Single(rows));
    }

    [Fact]
    public async Task ClientSecret_IsStoredAsAHash()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);

        var stored = await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().AsNoTracking()
            .Where(a => a.ClientId == client.ClientId).Select(a => a.ClientSecret).SingleAsync());

        Assert.DoesNotContain(client.Secret!, stored);
        Assert.Equal("sha256:" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(client.Secret!))), stored);
        Assert.Equal(HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(client)).Status);
    }

    [Fact]
    public async Task UserScopes_AreInvalidScope()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        Assert.Equal("invalid_scope", (await protocol.ClientCredentialsAsync(client, "openid")).Error);
        Assert.Equal("invalid_scope", (await protocol.ClientCredentialsAsync(client, "offline_access")).Error);
    }

    [Theory]
    [InlineData(true)] // configuration refuses a public client with this grant; one stored anyway is still public
    [InlineData(false)] // a public client of the usual kind (password, refresh_token)
    public async Task PublicClient_IsUnauthorizedClient(bool storedWithTheGrant)
    {
        // RFC 6749 §4.4: confidential clients only. SPEC §2: a grant the client may not use is unauthorized_client;
        // OpenIddict alone answered invalid_request ("client_secret or client_assertion must be specified").
        var client = await data.ClientAsync(grants: storedWithTheGrant ? ["client_credentials"] : ["password", "refresh_token"], isPublic: true);

        var result = await protocol.ClientCredentialsAsync(client);

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unauthorized_client", result.Error);
        Assert.Null(result.AccessToken);
        Assert.Equal(0, await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().CountAsync(t => t.Subject == client.ClientId)));
    }

    [Fact]
    public async Task ConfidentialClient_NotAllowedTheGrant_WithoutItsSecret_IsUnauthorizedClient()
    {
        var client = await data.ClientAsync(grants: ["password"]);

        var result = await protocol.ClientCredentialsAsync(client with { Secret = null });

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unauthorized_client", result.Error);
    }

    [Fact]
    public async Task ConfidentialClient_WithoutItsSecret_IsInvalidClient()
    {
        // RFC 6749 §5.2: "no client authentication included" is invalid_client, as for every other grant.
        var client = await data.ClientAsync(grants: ["client_credentials"]);

        var result = await protocol.ClientCredentialsAsync(client with { Secret = null });

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
        Assert.Null(result.AccessToken);
        Assert.Equal(0, await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().CountAsync(t => t.Subject == client.ClientId)));
    }

    [Fact]
    public async Task UnknownClient_WithoutASecret_IsInvalidClient()
    {
        var result = await protocol.ClientCredentialsAsync(new TestClient("no-such-client-" + Guid.NewGuid().ToString("N"), null));

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    [Fact]
    public async Task ReferenceFormatClient_GetsAnOpaqueToken_WhosePayloadIsStoredEncrypted()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], format: "reference");
        var result = await protocol.ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.DoesNotContain('.', result.AccessToken!);
        Assert.True(result.AccessToken!.Length >= 43);

        var row = await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking().SingleAsync(t => t.Subject == client.ClientId));
        Assert.NotEqual(result.AccessToken, row.ReferenceId); // only its hash is stored
        Assert.Equal(5, row.Payload!.Split('.').Length); // a JWE, not a signed JWT a database reader could replay
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
