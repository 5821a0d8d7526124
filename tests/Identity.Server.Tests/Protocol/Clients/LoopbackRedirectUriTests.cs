using System.Net;
using Identity.Server.Protocol.Clients;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Protocol.Clients;

/// <summary>
/// RFC 8252 §7.3: a redirect URI registered on a loopback IP literal (http://127.0.0.1, http://[::1]) accepts any port
/// at the authorization and pushed authorization endpoints, the port a native app got from the operating system; all
/// else still matches exactly, and the code is redeemed only with the very URI it was issued to.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LoopbackRedirectUriTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private Task<TestClient> NativeClientAsync() =>
        data.ClientAsync(grants: ["authorization_code"], isPublic: true, requireConsent: false,
            redirectUris: ["http://127.0.0.1/cb", "http://[::1]/cb", "http://localhost/cb"]);

    private static string AuthorizeUrl(TestClient client, string redirectUri, string verifier) =>
        QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = redirectUri, ["scope"] = "openid", ["state"] = "s",
            ["code_challenge"] = CodeFlow.Challenge(verifier), ["code_challenge_method"] = "S256",
        });

    private Task<TokenResult> RedeemAsync(TestClient client, string code, string redirectUri, string verifier) =>
        protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectUri),
            ("code_verifier", verifier)));

    private static string CodeIn(HttpResponseMessage response, string redirectUri)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        // OriginalString: Uri drops a default port (:80) from what it prints.
        Assert.StartsWith(redirectUri + "?", response.Headers.Location!.OriginalString);
        return QueryHelpers.ParseQuery(response.Headers.Location.Query)["code"].ToString();
    }

    [Theory]
    [InlineData("http://127.0.0.1:51234/cb")]
    [InlineData("http://[::1]:51234/cb")]
    [InlineData("http://127.0.0.1:80/cb")]
    [InlineData("http://127.0.0.1/cb")]
    public async Task LoopbackIpRedirectUri_AnyPort_GetsACode_RedeemedOnlyWithThatUri(string redirectUri)
    {
        var (client, user) = (await NativeClientAsync(), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);
        var verifier = CodeFlow.NewVerifier();

        var code = CodeIn(await browser.GetAsync(AuthorizeUrl(client, redirectUri, verifier)), redirectUri);

        // RFC 6749 §4.1.3: the token request's redirect_uri must be identical to the authorization request's.
        foreach (var other in new[] { "http://127.0.0.1:51235/cb", "http://[::1]:51235/cb", "http://127.0.0.1/cb" }.Where(o => o != redirectUri))
            Assert.Equal("invalid_grant", (await RedeemAsync(client, code, other, verifier)).Error);
        var tokens = await RedeemAsync(client, code, redirectUri, verifier);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
    }

    [Theory]
    [InlineData("http://127.0.0.1/cb")]
    [InlineData("http://127.0.0.1:51234/cb")]
    [InlineData("http://[::1]/cb")]
    public async Task LoopbackIpRedirectUri_RegisteredWithAPort_TakesAnyOther_OrNone(string redirectUri)
    {
        // "Any port" includes the scheme's default: an app whose registration names the port it used to listen on may
        // now be given 80 by the operating system, and write the URI without it.
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], isPublic: true, requireConsent: false,
            redirectUris: ["http://127.0.0.1:8080/cb", "http://[::1]:8080/cb"]), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);
        var verifier = CodeFlow.NewVerifier();

        var code = CodeIn(await browser.GetAsync(AuthorizeUrl(client, redirectUri, verifier)), redirectUri);

        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(client, code, redirectUri, verifier)).Status);
    }

    [Theory]
    [InlineData("http://127.0.0.1:51234/cb/")]
    [InlineData("http://127.0.0.1:51234/CB")]
    [InlineData("http://127.0.0.1:51234/cb?x=1")]
    [InlineData("http://127.0.0.1:51234/other")]
    [InlineData("https://127.0.0.1:51234/cb")]
    [InlineData("http://127.0.0.2:51234/cb")]
    [InlineData("http://[0:0:0:0:0:0:0:1]:51234/cb")]
    // RFC 8252 §8.3: localhost is NOT RECOMMENDED; its registration matches exactly, port included.
    [InlineData("http://localhost:51234/cb")]
    public async Task LoopbackRedirectUri_DifferingInMoreThanThePort_IsShownOnAPage(string redirectUri)
    {
        var (client, user) = (await NativeClientAsync(), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);

        var response = await browser.GetAsync(AuthorizeUrl(client, redirectUri, CodeFlow.NewVerifier()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task PushedRequest_WithALoopbackPort_IsAccepted_AndAnotherPathIsNot()
    {
        var (client, user) = (await NativeClientAsync(), await data.UserAsync());
        const string redirectUri = "http://[::1]:49152/cb";
        var verifier = CodeFlow.NewVerifier();
        List<KeyValuePair<string, string>> Push(string uri) => ProtocolClient.Form(("response_type", "code"), ("redirect_uri", uri),
            ("scope", "openid"), ("state", "s"), ("code_challenge", CodeFlow.Challenge(verifier)), ("code_challenge_method", "S256"));

        var refused = await protocol.TokenAsync(client, Push("http://[::1]:49152/other"), "/connect/par");
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("invalid_request", refused.Error);

        var pushed = await protocol.TokenAsync(client, Push(redirectUri), "/connect/par");
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        var browser = await CodeFlow.SignedInAsync(server, user);
        var code = CodeIn(await browser.GetAsync(QueryHelpers.AddQueryString("/connect/authorize",
            new Dictionary<string, string?> { ["client_id"] = client.ClientId, ["request_uri"] = pushed.Field("request_uri") })), redirectUri);
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(client, code, redirectUri, verifier)).Status);
    }

    [Theory]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:1/cb", true)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:65535/cb", true)]
    [InlineData("http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb", true)]
    [InlineData("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true)]
    [InlineData("http://[::1]/cb?a=b", "http://[::1]:5000/cb?a=b", true)]
    [InlineData("http://127.0.0.1/", "http://127.0.0.1:5000/", true)]
    [InlineData("http://127.0.0.1/", "http://127.0.0.1:5000", false)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:0/cb", false)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:65536/cb", false)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:080/cb", false)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:/cb", false)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb", false)]
    [InlineData("http://127.0.0.1/cb", "http://127.0.0.1.evil.example:80/cb", false)]
    [InlineData("http://127.0.0.1/cb", "http://[::1]:5000/cb", false)]
    [InlineData("http://127.0.0.1/cb", "HTTP://127.0.0.1:5000/cb", false)]
    [InlineData("http://localhost/cb", "http://localhost:5000/cb", false)]
    [InlineData("https://127.0.0.1/cb", "https://127.0.0.1:5000/cb", false)]
    public void IsPortVariant_AllowsOnlyThePortToDiffer(string registered, string presented, bool expected) =>
        Assert.Equal(expected, LoopbackRedirectUri.IsPortVariant(registered, presented));
}
