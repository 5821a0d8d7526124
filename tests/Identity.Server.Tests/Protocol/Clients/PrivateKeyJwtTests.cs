using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Protocol.Clients;

/// <summary>
/// private_key_jwt (RFC 7523 §2.2, OIDC Core §9, SPEC §2): a client proves who it is with an assertion signed by a key
/// in its configured JsonWebKeySet, on every endpoint that authenticates clients; each refusal is 401 invalid_client.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PrivateKeyJwtTests(ServerFixture server) : IDisposable
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());
    private readonly ClientKey key = new();

    public void Dispose() => key.Dispose();

    private Task<TestClient> KeyClientAsync(bool withSecret = false, string[]? grants = null) =>
        data.ClientAsync(grants: grants ?? ["client_credentials"], scopes: [TestData.ApiScope], allowIntrospection: true,
            jsonWebKeySet: key.PublicJwks, withSecret: withSecret);

    private Task<TokenResult> ClientCredentialsAsync(string clientId, string assertion, ProtocolClient? via = null) =>
        (via ?? protocol).SendAsync(Post("/connect/token", [("grant_type", "client_credentials"), ("scope", TestData.ApiScope), .. ClientKey.Fields(clientId, assertion)]));

    private static HttpRequestMessage Post(string path, (string, string?)[] form) =>
        new(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(ProtocolClient.Form(form)) };

    private static void AssertInvalidClient(TokenResult result)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
        // Copied into the Basic challenge, where a character outside RFC 6749's set made Kestrel answer 500 instead.
        Assert.Matches(Transport.ErrorShapeTests.InTheSet, result.ErrorDescription);
    }

    [Fact]
    public async Task ClientWithOnlyAKeySet_AuthenticatesWithAnAssertion()
    {
        var client = await KeyClientAsync();

        var result = await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId));

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.NotNull(result.AccessToken);
        Assert.Null(client.Secret);
    }

    [Fact]
    public async Task ExplicitlyTypedAssertion_IsAccepted_AnotherTokenType_IsNot()
    {
        var client = await KeyClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId, type: "client-authentication+jwt"))).Status);
        AssertInvalidClient(await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId, type: "at+jwt")));
    }

    [Fact]
    public async Task ClientWithSecretAndKeySet_MayUseEither()
    {
        var client = await KeyClientAsync(withSecret: true);

        Assert.Equal(HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(client, TestData.ApiScope)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId))).Status);
    }

    [Fact]
    public async Task ReplayedAssertion_IsRefused_WithAWarningOnly()
    {
        var client = await KeyClientAsync();
        var assertion = key.Assertion(client.ClientId);
        var log = new LogRecorder();
        await using var host = server.WithWebHostBuilder(log.For("replay"));
        var via = new ProtocolClient(host.HttpsClient());

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(client.ClientId, assertion, via)).Status);
        AssertInvalidClient(await ClientCredentialsAsync(client.ClientId, assertion, via));
        // The same jti in a newly signed assertion is the same assertion as far as RFC 7523 §3 goes.
        AssertInvalidClient(await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId, change: c => c["jti"] = JwtIdOf(assertion)), via));
        // Anyone may replay an assertion they saw: that must not fill the log with errors (a failed insert was two, with a
        // stack trace, from EF Core).
        Assert.Equal(2, log.Entries.Count(e => e.EventId.Name == "ClientAssertionReplayed" && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning));
        Assert.DoesNotContain(log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task AssertionReplayedOnAnotherNode_IsRefused()
    {
        var client = await KeyClientAsync();
        var assertion = key.Assertion(client.ClientId);
        await using var nodeB = server.WithSettings(new Dictionary<string, string?>());

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(client.ClientId, assertion)).Status);
        AssertInvalidClient(await ClientCredentialsAsync(client.ClientId, assertion, new ProtocolClient(nodeB.HttpsClient())));
    }

    [Fact]
    public async Task AssertionSignedByAKeyNotInTheSet_IsRefused()
    {
        var client = await KeyClientAsync();
        using var stranger = new ClientKey();

        AssertInvalidClient(await ClientCredentialsAsync(client.ClientId, stranger.Assertion(client.ClientId)));
    }

    [Fact]
    public async Task AKeyDeclaredForOneAlgorithm_VerifiesThatOneOnly()
    {
        // RFC 8725 §3.1: "each key MUST be used with exactly one algorithm, and this MUST be checked".
        using var declared = new ClientKey(rsa: true, declaredAlgorithm: "RS256");
        using var undeclared = new ClientKey(rsa: true);
        var strict = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope], jsonWebKeySet: declared.PublicJwks, withSecret: false);
        var lenient = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope], jsonWebKeySet: undeclared.PublicJwks, withSecret: false);

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(strict.ClientId, declared.Assertion(strict.ClientId, algorithm: "RS256"))).Status);
        AssertInvalidClient(await ClientCredentialsAsync(strict.ClientId, declared.Assertion(strict.ClientId, algorithm: "PS256")));
        AssertInvalidClient(await ClientCredentialsAsync(strict.ClientId, declared.Assertion(strict.ClientId, algorithm: "RS512")));
        // A key that declares none may be used with any algorithm discovery lists for its type.
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(lenient.ClientId, undeclared.Assertion(lenient.ClientId, algorithm: "PS256"))).Status);
    }

    [Theory]
    [InlineData("audience is the token endpoint")]
    [InlineData("audience is another server")]
    [InlineData("two audiences")]
    [InlineData("expired")]
    [InlineData("expires in an hour")]
    [InlineData("not valid yet")]
    [InlineData("no jti")]
    [InlineData("sub is another client")]
    [InlineData("reserved claim")]
    public async Task AssertionWithBadClaims_IsInvalidClient(string flaw)
    {
        var client = await KeyClientAsync();
        var now = DateTimeOffset.UtcNow;
        Action<Dictionary<string, object>> change = flaw switch
        {
            "audience is the token endpoint" => c => c["aud"] = "https://localhost/connect/token",
            "audience is another server" => c => c["aud"] = "https://elsewhere.example.test/",
            "two audiences" => c => c["aud"] = new[] { "https://localhost/", "https://elsewhere.example.test/" },
            "expired" => c => c["exp"] = now.AddMinutes(-3).ToUnixTimeSeconds(),
            "expires in an hour" => c => c["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            "not valid yet" => c => c["nbf"] = now.AddMinutes(5).ToUnixTimeSeconds(),
            "no jti" => c => c.Remove("jti"),
            "sub is another client" => c => c["sub"] = "someone-else",
            "reserved claim" => c => c["oi_exp_dt"] = now.AddDays(1).ToUnixTimeSeconds(),
            _ => throw new ArgumentOutOfRangeException(nameof(flaw)),
        };

        AssertInvalidClient(await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId, change: change)));
    }

    [Fact]
    public async Task Assertion_AuthenticatesAtIntrospectionAndRevocation()
    {
        var client = await KeyClientAsync();
        var token = (await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId))).AccessToken!;

        var introspection = await protocol.SendAsync(Post("/connect/introspect", [("token", token), .. ClientKey.Fields(client.ClientId, key.Assertion(client.ClientId))]));
        Assert.True(introspection.Json.GetProperty("active").GetBoolean());
        var revocation = await protocol.SendAsync(Post("/connect/revoke", [("token", token), .. ClientKey.Fields(client.ClientId, key.Assertion(client.ClientId))]));
        Assert.Equal(HttpStatusCode.OK, revocation.Status);
        var after = await protocol.SendAsync(Post("/connect/introspect", [("token", token), .. ClientKey.Fields(client.ClientId, key.Assertion(client.ClientId))]));
        Assert.False(after.Json.GetProperty("active").GetBoolean());
        AssertInvalidClient(await protocol.SendAsync(Post("/connect/introspect", [("token", token), .. ClientKey.Fields(client.ClientId, "not.a.jwt")])));
    }

    [Fact]
    public async Task Assertion_AuthenticatesAtPushedAndDeviceAuthorization()
    {
        var client = await data.ClientAsync(grants: ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"], scopes: ["openid"],
            redirectUris: ["https://app.example.test/callback"], jsonWebKeySet: key.PublicJwks, withSecret: false);

        var pushed = await protocol.SendAsync(Post("/connect/par", [("response_type", "code"), ("redirect_uri", "https://app.example.test/callback"),
            ("scope", "openid"), ("code_challenge", CodeFlow.Challenge(CodeFlow.NewVerifier())), ("code_challenge_method", "S256"),
            .. ClientKey.Fields(client.ClientId, key.Assertion(client.ClientId))]));
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        var device = await protocol.SendAsync(Post("/connect/device", [("scope", "openid"), .. ClientKey.Fields(client.ClientId, key.Assertion(client.ClientId))]));
        Assert.Equal(HttpStatusCode.OK, device.Status);
        AssertInvalidClient(await protocol.SendAsync(Post("/connect/device", [("scope", "openid"), .. ClientKey.Fields(client.ClientId, new ClientKey().Assertion(client.ClientId))])));
    }

    [Fact]
    public async Task KeySetWrittenAsAJsonObjectInSettings_IsTheClientsKeySet()
    {
        var clientId = $"configured-{Guid.NewGuid():N}";
        var settings = new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = clientId,
            ["Identity:Clients:0:AllowedGrantTypes:0"] = "client_credentials",
            ["Identity:Clients:0:AllowedScopes:0"] = TestData.ApiScope,
        };
        // How a settings file's {"JsonWebKeySet": {"keys": [{…}]}} reaches configuration: flattened, arrays by index.
        using (var jwks = System.Text.Json.JsonDocument.Parse(key.PublicJwks))
            foreach (var member in jwks.RootElement.GetProperty("keys")[0].EnumerateObject())
                settings[$"Identity:Clients:0:JsonWebKeySet:keys:0:{member.Name}"] = member.Value.GetString();
        await using var host = server.WithSettings(settings);

        var result = await ClientCredentialsAsync(clientId, key.Assertion(clientId), new ProtocolClient(host.HttpsClient()));

        Assert.Equal(HttpStatusCode.OK, result.Status);
    }

    [Fact]
    public async Task UsedAssertions_ArePrunedOnceExpired()
    {
        var client = await KeyClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(client.ClientId, key.Assertion(client.ClientId))).Status);
        Assert.Equal(1, await data.DbAsync(db => db.UsedClientAssertions.CountAsync(a => a.ClientId == client.ClientId)));

        var time = new TestTimeProvider(DateTimeOffset.UtcNow.AddMinutes(3));
        await using var later = server.WithTime(time);
        await using (var scope = later.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<Identity.Server.Jobs.PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await data.DbAsync(db => db.UsedClientAssertions.CountAsync(a => a.ClientId == client.ClientId)));
    }

    private static string JwtIdOf(string assertion) => new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(assertion).Id;
}
