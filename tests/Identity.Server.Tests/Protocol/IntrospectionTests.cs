using System.Net;
using System.Text.Json;
using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol;

[Collection(ServerCollection.Name)]
public sealed class IntrospectionTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private Task<TestClient> ResourceServerAsync() => data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true);

    [Theory]
    [InlineData("jwt")]
    [InlineData("reference")]
    public async Task ActiveAccessToken_IsDescribed(string format)
    {
        var (api, client, user) = (await ResourceServerAsync(), await data.ClientAsync(format: format), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(client, user, "openid profile offline_access api1");

        var result = await protocol.IntrospectAsync(api, tokens.AccessToken!);

        Assert.Equal(HttpStatusCode.OK, result.Status);
        var json = result.Json;
        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal("openid profile offline_access api1", json.GetProperty("scope").GetString());
        Assert.Equal(client.ClientId, json.GetProperty("client_id").GetString());
        Assert.Equal(user.UserName, json.GetProperty("username").GetString());
        Assert.Equal(user.Id, json.GetProperty("sub").GetString());
        Assert.Equal("https://localhost/", json.GetProperty("iss").GetString());
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Contains(TestData.ApiResource, json.GetProperty("aud").EnumerateArray().Select(a => a.GetString()));
        foreach (var time in new[] { "exp", "iat", "nbf" }) Assert.Equal(JsonValueKind.Number, json.GetProperty(time).ValueKind);
        Assert.False(string.IsNullOrEmpty(json.GetProperty("jti").GetString()));
        Assert.Equal("no-store", result.Response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task AGet_IsRefused_AndDescribesNothing()
    {
        // RFC 7662 §2.1 is a POST; a GET would carry the token and the caller's secret in the URL (RFC 6749 §2.3.1).
        var (api, client) = (await ResourceServerAsync(), await data.ClientAsync(grants: ["client_credentials"]));
        var token = (await protocol.ClientCredentialsAsync(client)).AccessToken!;

        var url = $"/connect/introspect?token={token}&client_id={api.ClientId}&client_secret={Uri.EscapeDataString(api.Secret!)}";
        var viaQuery = await protocol.SendAsync(new HttpRequestMessage(HttpMethod.Get, url));
        using var withBasic = new HttpRequestMessage(HttpMethod.Get, $"/connect/introspect?token={token}") { Headers = { Authorization = ProtocolClient.Basic(api.ClientId, api.Secret!) } };
        var viaBasic = await protocol.SendAsync(withBasic);

        foreach (var result in new[] { viaQuery, viaBasic })
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, result.Status);
            Assert.Equal("invalid_request", result.Error);
            Assert.False(result.Json.TryGetProperty("active", out _));
        }
    }

    [Fact]
    public async Task RevokedAccessToken_IsExactlyInactive()
    {
        var (api, client, user) = (await ResourceServerAsync(), await data.ClientAsync(), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(client, user);
        await protocol.RevokeAsync(client, tokens.AccessToken!);

        AssertExactlyInactive(await protocol.IntrospectAsync(api, tokens.AccessToken!));
    }

    [Fact]
    public async Task ExpiredAccessToken_IsExactlyInactive()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostData = new TestData(host);
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var (api, client) = (await hostData.ClientAsync(grants: ["client_credentials"], allowIntrospection: true), await hostData.ClientAsync(grants: ["client_credentials"]));
        var token = (await hostProtocol.ClientCredentialsAsync(client)).AccessToken!;
        Assert.True((await hostProtocol.IntrospectAsync(api, token)).Json.GetProperty("active").GetBoolean());

        time.Advance(TimeSpan.FromMinutes(16));

        AssertExactlyInactive(await hostProtocol.IntrospectAsync(api, token));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJqdGkiOiJ4In0.")]
    public async Task MalformedOrForgedToken_IsExactlyInactive(string token)
    {
        AssertExactlyInactive(await protocol.IntrospectAsync(await ResourceServerAsync(), token));
    }

    [Fact]
    public async Task RefreshToken_IsDescribedOnlyToItsOwnClient()
    {
        var (owner, user) = (await data.ClientAsync(allowIntrospection: true), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(owner, user);

        var own = await protocol.IntrospectAsync(owner, tokens.RefreshToken!);
        var foreign = await protocol.IntrospectAsync(await ResourceServerAsync(), tokens.RefreshToken!);

        Assert.True(own.Json.GetProperty("active").GetBoolean());
        Assert.Equal("refresh_token", own.Json.GetProperty("token_usage").GetString()); // RFC 7662 token_type is for access tokens
        AssertExactlyInactive(foreign);
    }

    [Fact]
    public async Task RedeemedRefreshToken_IsExactlyInactive()
    {
        var (owner, user) = (await data.ClientAsync(allowIntrospection: true), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(owner, user);
        await protocol.RefreshAsync(owner, tokens.RefreshToken!);

        AssertExactlyInactive(await protocol.IntrospectAsync(owner, tokens.RefreshToken!));
    }

    [Fact]
    public async Task PublicClient_IsRefused()
    {
        var (caller, user) = (await data.ClientAsync(isPublic: true, allowIntrospection: true), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(caller, user);

        var result = await protocol.IntrospectAsync(caller, tokens.AccessToken!);

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    [Fact]
    public async Task ClientCredentialsToken_DescribesTheClient_WithNoUserName()
    {
        // The token's person is read with its row, but only for tokens of an authorization: a client's own token has
        // none, even when a user happens to have the client's id as theirs.
        var (api, caller) = (await ResourceServerAsync(), await data.ClientAsync(grants: ["client_credentials"]));
        await data.UsersAsync(async users => Assert.True((await users.CreateAsync(
            new ApplicationUser { Id = caller.ClientId, UserName = $"namesake-{caller.ClientId}", Email = $"{caller.ClientId}@namesake.test" })).Succeeded));
        var token = (await protocol.ClientCredentialsAsync(caller)).AccessToken!;

        var json = (await protocol.IntrospectAsync(api, token)).Json;

        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal(caller.ClientId, json.GetProperty("sub").GetString());
        Assert.False(json.TryGetProperty("username", out _));
    }

    [Fact]
    public async Task ClientWithoutThePermission_IsRefused()
    {
        var caller = await data.ClientAsync(grants: ["client_credentials"]);
        var token = (await protocol.ClientCredentialsAsync(caller)).AccessToken!;

        var result = await protocol.IntrospectAsync(caller, token);

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unauthorized_client", result.Error);
    }

    [Fact]
    public async Task WrongSecret_Is401()
    {
        var api = await ResourceServerAsync();
        var result = await protocol.IntrospectAsync(api with { Secret = "wrong-wrong-wrong-wrong-wrong-wrong" }, "x");
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    private static void AssertExactlyInactive(TokenResult result)
    {
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("""{"active":false}""", result.Json.GetRawText());
    }
}
