using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// Pushed authorization requests (RFC 9126, SPEC §2): POST /connect/par answers 201 with a request_uri good for 60 s
/// and one use; a client with RequirePushedAuthorizationRequests gets nothing from a plain authorization request.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PushedAuthorizationTests(ServerFixture server)
{
    private const string RedirectUri = "https://app.example.test/callback";
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private Task<TestClient> ClientAsync(bool requirePushed = false, bool requireConsent = false) =>
        data.ClientAsync(grants: ["authorization_code"], scopes: ["openid", "profile", TestData.ApiScope], redirectUris: [RedirectUri],
            requireConsent: requireConsent, requirePushedAuthorizationRequests: requirePushed);

    private static Task<TokenResult> PushAsync(ProtocolClient via, TestClient client, string scope = "openid profile", string verifier = "") =>
        via.TokenAsync(client, ProtocolClient.Form(("response_type", "code"), ("redirect_uri", RedirectUri), ("scope", scope), ("state", "s-par"),
            ("code_challenge", CodeFlow.Challenge(verifier.Length > 0 ? verifier : CodeFlow.NewVerifier())), ("code_challenge_method", "S256")), "/connect/par");

    private static string AuthorizeUrl(TestClient client, string requestUri) =>
        QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?> { ["client_id"] = client.ClientId, ["request_uri"] = requestUri });

    private static Uri Absolute(Uri location) => location.IsAbsoluteUri ? location : new Uri(new Uri("https://localhost"), location);

    private static Dictionary<string, string> Callback(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(RedirectUri, response.Headers.Location!.ToString());
        return QueryHelpers.ParseQuery(response.Headers.Location.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    [Fact]
    public async Task Push_Answers201_WithARequestUriForSixtySeconds()
    {
        var client = await ClientAsync();

        var pushed = await PushAsync(protocol, client);

        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", pushed.Field("request_uri"));
        Assert.Equal(60, pushed.Json.GetProperty("expires_in").GetInt32());
        Assert.True(pushed.Response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task PushedRequest_GivesACode_AndItsRequestUriWorksOnce()
    {
        var (client, user) = (await ClientAsync(), await data.UserAsync());
        var verifier = CodeFlow.NewVerifier();
        var requestUri = (await PushAsync(protocol, client, verifier: verifier)).Field("request_uri")!;
        var browser = await CodeFlow.SignedInAsync(server, user);

        var callback = Callback(await browser.GetAsync(AuthorizeUrl(client, requestUri)));
        Assert.Equal("s-par", callback["state"]);
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", callback["code"]),
            ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);

        var again = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Null(again.Headers.Location);
    }

    [Fact]
    public async Task OneRequestUriUsedAtOnce_GivesOneCode_AndTheOthersAnAuthorizationError()
    {
        // The losers of the race failed at OpenIddict's redemption with invalid_token, which no authorization response
        // defines (RFC 6749 §4.1.2.1); the pushed request's redirect_uri is the client's own, so it may hear the error.
        var (client, user) = (await ClientAsync(), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);
        var losers = new List<string>();
        for (var round = 0; round < 5; round++)
        {
            var requestUri = (await PushAsync(protocol, client)).Field("request_uri")!;

            var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => browser.GetAsync(AuthorizeUrl(client, requestUri)))));

            var redirected = responses.Where(r => r.StatusCode == HttpStatusCode.Redirect).Select(Callback).ToList();
            Assert.Single(redirected, c => c.ContainsKey("code"));
            losers.AddRange(redirected.Where(c => !c.ContainsKey("code")).Select(c => c["error"]));
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Redirect), r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        }
        Assert.All(losers, error => Assert.Equal("invalid_request_uri", error));
    }

    [Fact]
    public async Task RequestUri_ExpiresAfterSixtySeconds()
    {
        var (client, user) = (await ClientAsync(), await data.UserAsync());
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var requestUri = (await PushAsync(new ProtocolClient(host.HttpsClient()), client)).Field("request_uri")!;
        var browser = await CodeFlow.SignedInAsync(host, user);

        time.Advance(TimeSpan.FromSeconds(61));
        var response = await browser.GetAsync(AuthorizeUrl(client, requestUri));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task SigningInTakesLongerThanTheRequestUriLives_AndTheFlowStillCompletes()
    {
        var (client, user) = (await ClientAsync(), await data.UserAsync());
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var verifier = CodeFlow.NewVerifier();
        var requestUri = (await PushAsync(new ProtocolClient(host.HttpsClient()), client, verifier: verifier)).Field("request_uri")!;
        var browser = host.CreateClient(new() { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false, HandleCookies = true });

        var toLogin = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var returnUrl = QueryHelpers.ParseQuery(Absolute(toLogin.Headers.Location!).Query)["returnUrl"].ToString();
        // The way back names a continuation of the pushed request, never its parameters.
        Assert.DoesNotContain(requestUri[^20..], returnUrl);
        Assert.DoesNotContain("redirect_uri", returnUrl);
        Assert.DoesNotContain("code_challenge", returnUrl);
        // The pushed request_uri was used by that first visit.
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(AuthorizeUrl(client, requestUri))).StatusCode);

        time.Advance(TimeSpan.FromMinutes(5));
        var back = await CodeFlow.LogInAsync(browser, user, returnUrl);
        var callback = Callback(await browser.GetAsync(back));
        var tokens = await new ProtocolClient(host.HttpsClient()).TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"),
            ("code", callback["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        // The continuation is used once too.
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(back)).StatusCode);
    }

    [Fact]
    public async Task ConsentPage_NamesThePushedScopes_AndATamperedCopyIsRefused()
    {
        var (client, user) = (await ClientAsync(requireConsent: true), await data.UserAsync());
        var requestUri = (await PushAsync(protocol, client, scope: $"openid {TestData.ApiScope}")).Field("request_uri")!;
        var browser = await CodeFlow.SignedInAsync(server, user);

        var toConsent = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        Assert.Equal(HttpStatusCode.Redirect, toConsent.StatusCode);
        Assert.StartsWith("/connect/consent", toConsent.Headers.Location!.ToString());
        var page = await browser.GetStringAsync(toConsent.Headers.Location);
        Assert.Contains($"Use the API &quot;{TestData.ApiScope}&quot; on your behalf", page);

        var returnUrl = QueryHelpers.ParseQuery(Absolute(toConsent.Headers.Location).Query)["returnUrl"].ToString();
        var query = QueryHelpers.ParseQuery(new Uri(new Uri("https://localhost"), returnUrl).Query);
        var form = query.ToDictionary(p => p.Key, p => p.Value.ToString());
        form["consent_decision"] = "allow";
        form["__RequestVerificationToken"] = CodeFlow.Antiforgery(page);
        form["scope"] = "openid";
        var tampered = await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.BadRequest, tampered.StatusCode);

        form["scope"] = $"openid {TestData.ApiScope}";
        Assert.Contains("code", Callback(await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(form))).Keys);
    }

    [Fact]
    public async Task ClientRequiringPushedRequests_IsRefusedAPlainRequest_ButNotAPushedOne()
    {
        var (client, user) = (await ClientAsync(requirePushed: true), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);

        var plain = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = RedirectUri, ["scope"] = "openid", ["state"] = "s-plain",
            ["code_challenge"] = CodeFlow.Challenge(CodeFlow.NewVerifier()), ["code_challenge_method"] = "S256",
        }));
        var refused = Callback(plain);
        Assert.Equal("invalid_request", refused["error"]);
        Assert.False(refused.ContainsKey("code"));

        var requestUri = (await PushAsync(protocol, client)).Field("request_uri")!;
        Assert.Contains("code", Callback(await browser.GetAsync(AuthorizeUrl(client, requestUri))).Keys);
    }

    [Theory]
    [InlineData("openid profile")]
    [InlineData("openid offline_access")]
    public async Task PushedScopeTheClientMayNotHave_IsInvalidScope(string scope)
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], scopes: ["openid"], redirectUris: [RedirectUri]);

        var pushed = await PushAsync(protocol, client, scope: scope);

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_scope", pushed.Error);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task PushedIdTokenHintNotIssuedByThisServer_IsInvalidRequest(string hint)
    {
        var client = await ClientAsync();

        var pushed = await protocol.TokenAsync(client, ProtocolClient.Form(("response_type", "code"), ("redirect_uri", RedirectUri), ("scope", "openid"),
            ("code_challenge", CodeFlow.Challenge(CodeFlow.NewVerifier())), ("code_challenge_method", "S256"), ("id_token_hint", hint)), "/connect/par");

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
    }

    [Fact]
    public async Task PushedMalformedChallenge_IsInvalidRequest()
    {
        // RFC 7636 §4.2: 43 to 128 unreserved characters.
        var client = await ClientAsync();

        var pushed = await protocol.TokenAsync(client, ProtocolClient.Form(("response_type", "code"), ("redirect_uri", RedirectUri), ("scope", "openid"),
            ("code_challenge", "short"), ("code_challenge_method", "S256")), "/connect/par");

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
        Assert.Contains("code_challenge", pushed.ErrorDescription);
    }

    [Fact]
    public async Task PushWithoutClientAuthentication_IsInvalidClient()
    {
        var client = await ClientAsync();

        var pushed = await protocol.TokenAsync(client with { Secret = "wrong-secret-wrong-secret-wrong-secret" },
            ProtocolClient.Form(("response_type", "code"), ("redirect_uri", RedirectUri), ("scope", "openid")), "/connect/par");

        Assert.Equal(HttpStatusCode.Unauthorized, pushed.Status);
        Assert.Equal("invalid_client", pushed.Error);
    }
}
