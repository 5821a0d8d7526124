using System.Net;
using System.Net.Http.Json;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// RFC 8707: a <c>resource</c> names where the token will be used, and must be one of the audiences the requested scopes
/// reach (an API scope's resources, this server for the OpenID Connect scopes); the access token is then for it alone.
/// Every resource was refused invalid_target, even the one the token would have had: clients that always send one (MCP
/// clients must) could not get a token at all.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ResourceIndicatorTests(ServerFixture server)
{
    private const string RedirectUri = "https://app.example.test/callback";
    private const string Elsewhere = "https://elsewhere.example.test/";
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private static string[] Audiences(TokenResult result) => [.. new JsonWebToken(result.AccessToken).Audiences];

    private async Task<string> IssuerAsync() =>
        (await protocol.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/.well-known/openid-configuration")).GetProperty("issuer").GetString()!;

    [Fact]
    public async Task ClientCredentials_WithItsScopesResource_IsForItAlone_AndAnotherIsInvalidTarget()
    {
        var machine = await data.ClientAsync(grants: ["client_credentials"]);
        List<KeyValuePair<string, string>> Form(params (string, string?)[] extra) =>
            ProtocolClient.Form([("grant_type", "client_credentials"), ("scope", TestData.ApiScope), .. extra]);

        var named = await protocol.TokenAsync(machine, Form(("resource", TestData.ApiResource)));
        var withSlash = await protocol.TokenAsync(machine, Form(("resource", TestData.ApiResource + "/")));
        var other = await protocol.TokenAsync(machine, Form(("resource", Elsewhere)));
        var audience = await protocol.TokenAsync(machine, Form(("audience", TestData.ApiResource)));

        Assert.True(named.Status == HttpStatusCode.OK, named.Json.ToString());
        Assert.Equal([TestData.ApiResource], Audiences(named));
        Assert.Equal(HttpStatusCode.OK, withSlash.Status);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (other.Status, other.Error));
        Assert.Contains(Elsewhere, other.Field("error_description"));
        // audience is RFC 8693's, for token exchange.
        Assert.Equal("invalid_request", audience.Error);
    }

    [Fact]
    public async Task PasswordGrant_NarrowsTheAccessToken_AndTheRefreshTokenKeepsEveryResource()
    {
        var (app, user, issuer) = (await data.ClientAsync(), await data.UserAsync(), await IssuerAsync());
        var tokens = await protocol.TokenAsync(app, ProtocolClient.Form(("grant_type", "password"), ("username", user.UserName),
            ("password", user.Password), ("scope", $"openid offline_access {TestData.ApiScope}"), ("resource", TestData.ApiResource)));
        Assert.True(tokens.Status == HttpStatusCode.OK, tokens.Json.ToString());
        Assert.Equal([TestData.ApiResource], Audiences(tokens));

        var forThisServer = await protocol.TokenAsync(app, ProtocolClient.Form(("grant_type", "refresh_token"),
            ("refresh_token", tokens.RefreshToken), ("resource", issuer)));
        Assert.True(forThisServer.Status == HttpStatusCode.OK, forThisServer.Json.ToString());
        Assert.Equal([issuer], Audiences(forThisServer));

        var both = await protocol.RefreshAsync(app, forThisServer.RefreshToken!);
        Assert.Equal(new[] { TestData.ApiResource, issuer }.Order(StringComparer.Ordinal), Audiences(both).Order(StringComparer.Ordinal));

        var refused = await protocol.TokenAsync(app, ProtocolClient.Form(("grant_type", "refresh_token"),
            ("refresh_token", both.RefreshToken), ("resource", Elsewhere)));
        Assert.Equal("invalid_target", refused.Error);
    }

    [Fact]
    public async Task CodeFlow_TheAuthorizationRequestsResource_IsWhatTheTokensAreFor()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], requireConsent: false, redirectUris: [RedirectUri]);
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());
        var verifier = CodeFlow.NewVerifier();
        string Authorize(string resource) => QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = RedirectUri, ["scope"] = $"openid {TestData.ApiScope}",
            ["state"] = "s", ["code_challenge"] = CodeFlow.Challenge(verifier), ["code_challenge_method"] = "S256", ["resource"] = resource,
        });

        var refused = await browser.GetAsync(Authorize(Elsewhere));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Equal("invalid_target", QueryHelpers.ParseQuery(refused.Headers.Location!.Query)["error"].ToString());

        var issued = await browser.GetAsync(Authorize(TestData.ApiResource));
        var code = QueryHelpers.ParseQuery(issued.Headers.Location!.Query)["code"].ToString();
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", RedirectUri), ("code_verifier", verifier)));

        Assert.True(tokens.Status == HttpStatusCode.OK, tokens.Json.ToString());
        Assert.Equal([TestData.ApiResource], Audiences(tokens));
        Assert.NotNull(tokens.IdToken);
    }

    [Fact]
    public async Task PushedRequest_WithAResourceOutsideItsScopes_IsInvalidTarget()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri]);
        List<KeyValuePair<string, string>> Push(string resource) => ProtocolClient.Form(("response_type", "code"), ("redirect_uri", RedirectUri),
            ("scope", $"openid {TestData.ApiScope}"), ("state", "s"), ("code_challenge", CodeFlow.Challenge(CodeFlow.NewVerifier())),
            ("code_challenge_method", "S256"), ("resource", resource));

        var refused = await protocol.TokenAsync(client, Push(Elsewhere), "/connect/par");
        var malformed = await protocol.TokenAsync(client, Push("orders"), "/connect/par");
        var pushed = await protocol.TokenAsync(client, Push(TestData.ApiResource), "/connect/par");

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (refused.Status, refused.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (malformed.Status, malformed.Error));
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
    }
}
