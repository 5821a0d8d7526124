using System.Net;
using System.Net.Http.Json;
using Identity.Server.Tests.Infrastructure;
using Identity.Server.Tests.Protocol.Token;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Protocol;

[Collection(ServerCollection.Name)]
public sealed class AuthorizeEndpointTests(ServerFixture server)
{
    private const string RedirectUri = "https://app.example.test/callback";
    private readonly TestData data = new(server);
    private readonly HttpClient http = server.CreateClient();

    private Task<TestClient> ClientAsync(bool isPublic = false) =>
        data.ClientAsync(grants: ["authorization_code"], isPublic: isPublic, redirectUris: [RedirectUri]);

    private static string Url(string clientId, string redirectUri = RedirectUri, string? challenge = "default", string? method = "S256", string? extra = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = clientId, ["redirect_uri"] = redirectUri, ["scope"] = "openid profile", ["state"] = "xyz",
        };
        if (challenge is not null) query["code_challenge"] = challenge == "default" ? AuthorizationCodeGrantTests.Challenge(AuthorizationCodeGrantTests.NewVerifier()) : challenge;
        if (method is not null) query["code_challenge_method"] = method;
        return QueryHelpers.AddQueryString("/connect/authorize", query) + (extra ?? "");
    }

    [Fact]
    public async Task UnregisteredRedirectUri_IsShownOnAPage_NeverRedirected()
    {
        var client = await ClientAsync();
        var response = await http.GetAsync(Url(client.ClientId, "https://evil.example.test/callback"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Contains("redirect_uri", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnknownClient_IsShownOnAPage()
    {
        var response = await http.GetAsync(Url("no-such-client"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task PlainMethod_IsRefusedToTheClient()
    {
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId, challenge: new string('a', 43), method: "plain"));
        Assert.Equal("invalid_request", query["error"]);
        Assert.Equal("xyz", query["state"]);
        Assert.Equal("https://localhost/", query["iss"]);
    }

    [Fact]
    public async Task ChallengeWithoutMethod_MeansPlain_AndIsRefused()
    {
        var client = await ClientAsync();
        Assert.Equal("invalid_request", (await RedirectQueryAsync(Url(client.ClientId, method: null)))["error"]);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("with spaces and + signs, 43 characters long")]
    [InlineData("a-challenge-of-129-characters-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task MalformedChallenge_IsRefusedToTheClient(string challenge)
    {
        // RFC 7636 §4.2: 43 to 128 unreserved characters; anything else could only ever pair with a malformed verifier.
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId, challenge: challenge));
        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("code_challenge", query["error_description"]);
        Assert.Equal("xyz", query["state"]);
    }

    [Fact]
    public async Task PublicClientWithoutPkce_IsRefused()
    {
        var client = await ClientAsync(isPublic: true);
        Assert.Equal("invalid_request", (await RedirectQueryAsync(Url(client.ClientId, challenge: null, method: null)))["error"]);
    }

    [Fact]
    public async Task UnsupportedResponseType_IsRefused()
    {
        var client = await ClientAsync();
        var url = Url(client.ClientId).Replace("response_type=code", "response_type=token");
        // An implicit-flow request's responses go in the fragment (OAuth 2.0 Multiple Response Type Encoding Practices §2.1).
        var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri, location.ToString());
        Assert.Equal("unsupported_response_type", QueryHelpers.ParseQuery(location.Fragment.TrimStart('#'))["error"]);
    }

    [Theory]
    [InlineData("response_type=foo", "unsupported_response_type")]
    [InlineData("response_type=Code", "unsupported_response_type")]
    [InlineData("response_type=", "invalid_request")]
    public async Task AResponseTypeOpenIddictDoesNotKnow_IsSentToTheClientInTheQuery(string responseType, string error)
    {
        // RFC 6749 §4.1.2.1: only a bad client or redirect URI is shown to the person; the code flow answers in the query.
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId).Replace("response_type=code", responseType));
        Assert.Equal(error, query["error"]);
        Assert.Equal("xyz", query["state"]);
        Assert.Equal("https://localhost/", query["iss"]);
    }

    [Fact]
    public async Task AnUnsupportedResponseMode_IsSentToTheClientInTheQuery()
    {
        // RFC 6749 §4.1.2.1: only a bad client or redirect URI is shown to the person; response_mode=foo was shown a page.
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId, extra: "&response_mode=foo"));
        Assert.Equal("invalid_request", query["error"]);
        Assert.Equal("xyz", query["state"]);
        Assert.Equal("https://localhost/", query["iss"]);
    }

    [Fact]
    public async Task ARequestObject_IsRequestNotSupported_SentToTheClient()
    {
        // OIDC Core §6.1, §3.1.2.6: request objects are not supported (discovery says request_parameter_supported=false).
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId, extra: "&request=eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6IngifQ."));
        Assert.Equal("request_not_supported", query["error"]);
        Assert.Equal("xyz", query["state"]);
    }

    [Theory]
    [InlineData("openid profile")]
    [InlineData("openid offline_access")] // OpenIddict answered invalid_request for a client without the refresh_token grant
    public async Task ScopeTheClientMayNotHave_IsInvalidScope(string scope)
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], scopes: ["openid"], redirectUris: [RedirectUri]);
        Assert.Equal("invalid_scope", (await RedirectQueryAsync(Url(client.ClientId).Replace("scope=openid%20profile", "scope=" + Uri.EscapeDataString(scope))))["error"]);
    }

    [Fact]
    public async Task OfflineAccess_AllowedToAClientWithoutTheRefreshTokenGrant_IsInvalidScope()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], scopes: ["openid", "offline_access"], redirectUris: [RedirectUri]);
        Assert.Equal("invalid_scope", (await RedirectQueryAsync(Url(client.ClientId).Replace("scope=openid%20profile", "scope=openid%20offline_access")))["error"]);
    }

    [Fact]
    public async Task NoSession_RedirectsToTheLoginPage_WithALocalReturnUrl()
    {
        var client = await ClientAsync();
        var response = await http.GetAsync(Url(client.ClientId));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("/account/login?returnUrl=", location);
        Assert.StartsWith("/connect/authorize?", QueryHelpers.ParseQuery(new Uri(new Uri("https://localhost"), location).Query)["returnUrl"].ToString());
    }

    [Fact]
    public async Task PromptNone_WithoutSession_IsLoginRequired()
    {
        var client = await ClientAsync();
        Assert.Equal("login_required", (await RedirectQueryAsync(Url(client.ClientId, extra: "&prompt=none")))["error"]);
    }

    [Fact]
    public async Task AMalformedResource_IsInvalidTarget_SentToTheClient()
    {
        // RFC 8707 §2: a resource that is not an absolute URI is invalid_target (OpenIddict's check said invalid_request).
        var client = await ClientAsync();
        Assert.Equal("invalid_target", (await RedirectQueryAsync(Url(client.ClientId, extra: "&resource=orders")))["error"]);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1e3")]
    [InlineData("-1")]
    [InlineData("99999999999999999999")]
    public async Task MalformedMaxAge_IsRefusedToTheClient(string maxAge)
    {
        // OIDC Core §3.1.2.1: whole seconds; read as absent, the client would get a code without the check it asked for.
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId, extra: $"&max_age={maxAge}"));
        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("max_age", query["error_description"]);
    }

    [Fact]
    public async Task AnEmptyMaxAge_IsAsIfOmitted()
    {
        // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from the request."
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);

        var response = await browser.GetAsync(Url(client.ClientId, extra: "&prompt=none&max_age="));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(QueryHelpers.ParseQuery(response.Headers.Location!.Query).ContainsKey("code"), response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task AHugeMaxAge_WithASession_IssuesACode()
    {
        // Up to long.MaxValue seconds: the age check must not overflow (it answered 500).
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);

        var response = await browser.GetAsync(Url(client.ClientId, extra: $"&prompt=none&max_age={long.MaxValue}"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(QueryHelpers.ParseQuery(response.Headers.Location!.Query).ContainsKey("code"));
    }

    [Fact]
    public async Task ABrowserSession_EndsWithAPasswordChange()
    {
        // SPEC §3: a password change ends the person's other sessions; a browser session left open would mint new
        // refresh tokens from prompt=none at once.
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);
        Assert.True(QueryHelpers.ParseQuery((await browser.GetAsync(Url(client.ClientId, extra: "&prompt=none"))).Headers.Location!.Query).ContainsKey("code"));
        var accessToken = (await new ProtocolClient(server.CreateClient()).PasswordGrantAsync(await data.ClientAsync(), user, "openid profile")).AccessToken!;
        using var change = new HttpRequestMessage(HttpMethod.Post, "/api/account/password")
        {
            Headers = { Authorization = new("Bearer", accessToken) },
            Content = JsonContent.Create(new { currentPassword = user.Password, newPassword = "a brand new passphrase 42" }),
        };
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(change)).StatusCode);

        var after = await browser.GetAsync(Url(client.ClientId, extra: "&prompt=none"));

        Assert.Equal("login_required", QueryHelpers.ParseQuery(after.Headers.Location!.Query)["error"]);
    }

    [Theory]
    [InlineData("logout page")]
    [InlineData("end session")]
    public async Task ASignedOutSession_IsNotRevivedByACopyOfItsCookie(string way)
    {
        // OWASP ASVS V3.3.1: signing out ends the session on the server. A cookie that was only deleted from the browser
        // would still sign its copy in (a shared computer, a proxy log) until it expired.
        const string signedOut = "https://app.example.test/signed-out";
        var client = await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false,
            postLogoutRedirectUris: [signedOut]);
        var user = await data.UserAsync();
        var jar = new CookieContainer();
        var browser = server.CreateDefaultClient(new Uri("https://localhost"), new CookieContainerHandler(jar));
        var login = await browser.GetStringAsync("/account/login");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user.UserName, ["Password"] = user.Password, ["__RequestVerificationToken"] = CodeFlow.Antiforgery(login),
        }))).StatusCode);
        var copy = jar.GetCookieHeader(new Uri("https://localhost/"));
        // An ID token of this session, as the client would hold it to name the session at end session.
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        var code = QueryHelpers.ParseQuery((await browser.GetAsync(Url(client.ClientId, challenge: AuthorizationCodeGrantTests.Challenge(verifier),
            extra: "&prompt=none"))).Headers.Location!.Query)["code"].ToString();
        var idToken = (await new ProtocolClient(server.CreateClient()).TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"),
            ("code", code), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).IdToken!;

        if (way == "logout page")
        {
            var page = await browser.GetStringAsync("/account/logout");
            var response = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = CodeFlow.Antiforgery(page) }));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
            {
                ["client_id"] = client.ClientId, ["id_token_hint"] = idToken, ["post_logout_redirect_uri"] = signedOut,
            }));
            Assert.StartsWith(signedOut, response.Headers.Location!.ToString());
        }
        Assert.Equal("login_required", QueryHelpers.ParseQuery((await browser.GetAsync(Url(client.ClientId, extra: "&prompt=none"))).Headers.Location!.Query)["error"]);

        using var replay = new HttpRequestMessage(HttpMethod.Get, Url(client.ClientId, extra: "&prompt=none")) { Headers = { { "Cookie", copy } } };
        var replayed = await server.CreateDefaultClient(new Uri("https://localhost")).SendAsync(replay);

        Assert.Equal("login_required", QueryHelpers.ParseQuery(replayed.Headers.Location!.Query)["error"]);
    }

    [Fact]
    public async Task APostWithoutTheSessionCookie_IsSentBackAsAGet_AnsweredWithTheSession()
    {
        // OIDC Core §3.1.2.1: the endpoint MUST support POST, which a client sends as an auto-submitted form from its own
        // site. The browser leaves the SameSite=Lax session cookie off that cross-site POST (the person looked signed out:
        // login_required), and sends it on the GET the POST is sent to.
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);
        var form = AuthorizeForm(client.ClientId, ("prompt", "none"), ("nonce", "n-1"));

        var posted = await server.CreateClient().PostAsync("/connect/authorize", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var location = posted.Headers.Location!.OriginalString;
        Assert.Equal("/connect/authorize", location.Split('?')[0]);
        Assert.Equal(EndSessionTests.ByName(form), EndSessionTests.QueryByName(location));
        var answered = await browser.GetAsync(location);
        Assert.Equal(HttpStatusCode.Redirect, answered.StatusCode);
        Assert.StartsWith(RedirectUri, answered.Headers.Location!.ToString());
        var query = QueryHelpers.ParseQuery(answered.Headers.Location.Query);
        Assert.True(query.ContainsKey("code"), answered.Headers.Location.ToString());
        Assert.Equal("xyz", query["state"]);
    }

    [Fact]
    public async Task APostWithoutTheSessionCookie_KeepsEveryValueOfARepeatedResource()
    {
        // RFC 8707 §2: resource may repeat (RejectRepeatedParameters lets it); the GET carries each value, in order.
        var client = await ClientAsync();
        var form = AuthorizeForm(client.ClientId, ("resource", "https://b.example.test/"), ("resource", "https://a.example.test/"));

        var posted = await server.CreateClient().PostAsync("/connect/authorize", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal(EndSessionTests.ByName(form), EndSessionTests.QueryByName(posted.Headers.Location!.OriginalString));
    }

    [Fact]
    public async Task APostWithTheSessionCookie_IsAnsweredDirectly()
    {
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false), await data.UserAsync());
        var browser = await CodeFlow.SignedInAsync(server, user);

        var posted = await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(AuthorizeForm(client.ClientId, ("prompt", "none"))));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.True(QueryHelpers.ParseQuery(posted.Headers.Location!.Query).ContainsKey("code"), posted.Headers.Location.ToString());
    }

    [Fact]
    public async Task APostFromThisSite_WithoutTheSessionCookie_IsAnsweredDirectly()
    {
        // Fetch Metadata: a same-origin POST carries every cookie the browser holds, so without the session's nobody is
        // signed in here (the consent page's form, from a session that ended meanwhile).
        var client = await data.ClientAsync(grants: ["authorization_code"], redirectUris: [RedirectUri], requireConsent: false);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/authorize")
        {
            Content = new FormUrlEncodedContent(AuthorizeForm(client.ClientId, ("prompt", "none"))), Headers = { { "Sec-Fetch-Site", "same-origin" } },
        };

        var response = await server.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("login_required", QueryHelpers.ParseQuery(response.Headers.Location!.Query)["error"]);
    }

    [Fact]
    public async Task FormPostResponseMode_PostsTheResponseToTheRedirectUri()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], scopes: ["openid"], redirectUris: [RedirectUri]);

        var response = await http.GetAsync(Url(client.ClientId, extra: "&response_mode=form_post"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains($"<form method=\"post\" action=\"{RedirectUri}\">", html);
        Assert.Contains("name=\"error\" value=\"invalid_scope\"", html);
        Assert.Contains("name=\"state\" value=\"xyz\"", html);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'nonce-", csp);
        Assert.Contains($"<script nonce=\"{csp.Split("'nonce-")[1].Split('\'')[0]}\">", html);
        // Chromium holds form-action against the redirects after the post too: the client's own 302 from its callback to
        // another of its origins was blocked, and the person left on a blank page (audit a16a).
        Assert.DoesNotContain("form-action", csp);
    }

    [Fact]
    public async Task IdTokenHintNotIssuedByThisServer_IsInvalidRequest()
    {
        // OIDC Core §3.1.2.2: every parameter is validated; a hint that is not one of our ID tokens is an error sent to
        // the client, not ignored (OpenIddict drops a hint it cannot validate and carries on as if none was sent).
        var client = await ClientAsync();
        var forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
        foreach (var hint in new[] { "not-a-jwt", forged })
        {
            var query = await RedirectQueryAsync(Url(client.ClientId, extra: "&id_token_hint=" + Uri.EscapeDataString(hint)));
            Assert.Equal("invalid_request", query["error"]);
            Assert.Equal("xyz", query["state"]);
        }
    }

    [Fact]
    public async Task IdTokenHintIssuedToAnotherClient_IsInvalidRequest()
    {
        var client = await ClientAsync();
        var other = await data.ClientAsync(isPublic: true, scopes: ["openid"]);
        var idToken = (await new ProtocolClient(http).PasswordGrantAsync(other, await data.UserAsync(), "openid")).IdToken!;
        var query = await RedirectQueryAsync(Url(client.ClientId, extra: "&id_token_hint=" + Uri.EscapeDataString(idToken)));
        Assert.Equal("invalid_request", query["error"]);
    }

    [Fact]
    public async Task IdTokenHintIssuedToTheClient_IsAccepted()
    {
        var client = await data.ClientAsync(grants: ["authorization_code", "password"], redirectUris: [RedirectUri]);
        var idToken = (await new ProtocolClient(http).PasswordGrantAsync(client, await data.UserAsync(), "openid")).IdToken!;
        var response = await http.GetAsync(Url(client.ClientId, extra: "&id_token_hint=" + Uri.EscapeDataString(idToken)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login?returnUrl=", response.Headers.Location!.ToString());
        // Whoever signs in is the answer: kept in the request the login page returns to, a hint naming someone else sent
        // the person who signed in back to the login page once more (OIDC conformance audit).
        Assert.DoesNotContain("id_token_hint", Uri.UnescapeDataString(response.Headers.Location!.ToString()));
    }

    [Fact]
    public async Task ExpiredIdTokenHint_IsStillAHint()
    {
        // An RP's ID token is short-lived and the session it names outlives it; as node-oidc-provider, only a false hint is refused.
        var client = await data.ClientAsync(grants: ["authorization_code", "password"], redirectUris: [RedirectUri]);
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var idToken = (await new ProtocolClient(host.HttpsClient()).PasswordGrantAsync(client, await data.UserAsync(), "openid")).IdToken!;
        time.Advance(TimeSpan.FromDays(2));

        var response = await host.HttpsClient().GetAsync(Url(client.ClientId, extra: "&id_token_hint=" + Uri.EscapeDataString(idToken)));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login?returnUrl=", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task RepeatedParameter_IsSentToTheClient()
    {
        // RFC 6749 §4.1.2.1: "includes a parameter more than once" is invalid_request at the redirect URI.
        var client = await ClientAsync();
        var query = await RedirectQueryAsync(Url(client.ClientId) + "&scope=again");
        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("'scope' parameter is repeated", query["error_description"]);
    }

    [Fact]
    public async Task ARepeatedParameterTheServerDoesNotKnow_IsIgnored()
    {
        // RFC 6749 §3.1: unrecognised parameters are ignored, repeated or not (a link's tracking parameters).
        var client = await ClientAsync();
        var response = await http.GetAsync(Url(client.ClientId) + "&utm_source=a&utm_source=b");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login?returnUrl=", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task RepeatedRedirectUri_IsShownOnAPage()
    {
        var client = await ClientAsync();
        var response = await http.GetAsync(Url(client.ClientId) + "&redirect_uri=" + Uri.EscapeDataString(RedirectUri));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    private static List<KeyValuePair<string, string>> AuthorizeForm(string clientId, params (string Name, string Value)[] extra) =>
    [
        new("response_type", "code"), new("client_id", clientId), new("redirect_uri", RedirectUri), new("scope", "openid profile"), new("state", "xyz"),
        new("code_challenge", AuthorizationCodeGrantTests.Challenge(AuthorizationCodeGrantTests.NewVerifier())), new("code_challenge_method", "S256"),
        .. extra.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)),
    ];

    private async Task<Dictionary<string, string>> RedirectQueryAsync(string url)
    {
        var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri, location.ToString());
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }
}
