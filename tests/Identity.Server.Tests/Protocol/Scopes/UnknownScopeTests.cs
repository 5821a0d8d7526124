using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol.Scopes;

/// <summary>
/// A scope the server does not know is invalid_scope, decided from the scopes it was configured with, and more than 100
/// scopes are refused before anything parses them. OpenIddict looked every unknown name up in the scope store too, and
/// its parsing grows with the square of the count: thousands of made-up names cost over a second of CPU per request,
/// before any client authentication (input audit).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class UnknownScopeTests(ServerFixture server)
{
    [Theory]
    [InlineData("/connect/token")]
    [InlineData("/connect/device")]
    [InlineData("/connect/par")]
    public async Task MadeUpScopes_AreInvalidScope_WithoutAScopeStoreQuery(string endpoint)
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials", "urn:ietf:params:oauth:grant-type:device_code", "authorization_code"],
            redirectUris: ["https://app.example.test/callback"]);
        var log = new LogRecorder();
        await using var host = server.WithWebHostBuilder(log.For("scopes"));
        var via = new ProtocolClient(host.HttpsClient()); // starts the host, whose seeding reads the scope store
        var before = log.Entries.Count;
        var scope = string.Join(' ', Enumerable.Range(0, 100).Select(i => $"made-up-{i}"));

        var result = await via.TokenAsync(client, ProtocolClient.Form(("grant_type", "client_credentials"),
            ("response_type", "code"), ("redirect_uri", "https://app.example.test/callback"), ("code_challenge", CodeFlow.Challenge(CodeFlow.NewVerifier())),
            ("code_challenge_method", "S256"), ("scope", scope)), endpoint);

        Assert.Equal("invalid_scope", result.Error);
        Assert.Equal("The 'made-up-0' scope is not supported.", result.ErrorDescription);
        Assert.DoesNotContain(log.Entries.Skip(before), e => e.State.TryGetValue("commandText", out var sql) && sql is string text && text.Contains("OpenIddictScopes"));
    }

    [Theory]
    [InlineData("/connect/token")]
    [InlineData("/connect/device")]
    [InlineData("/connect/par")]
    public async Task MoreThanAHundredScopes_AreInvalidScope(string endpoint)
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        var scope = string.Join("  ", Enumerable.Range(0, 101).Select(i => $"s{i}"));

        var result = await new ProtocolClient(server.HttpsClient()).TokenAsync(client, ProtocolClient.Form(("grant_type", "client_credentials"),
            ("scope", scope)), endpoint);

        Assert.Equal("invalid_scope", result.Error);
        Assert.Equal("The 'scope' parameter names more than 100 scopes.", result.ErrorDescription);
    }
}
