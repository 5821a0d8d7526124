using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// The end-session endpoint's checks of an id_token_hint (OIDC RP-Initiated Logout §2, §4), with nobody signed in in
/// the calling client (the browser side is in Pages/AuthorizationCodeFlowTests); and a POST, as a client's auto-submitted
/// form sends it, with and without the browser session's cookie (SameSite=Lax leaves it off a cross-site POST).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EndSessionTests(ServerFixture server)
{
    private const string SignedOut = "https://app.example.test/signed-out";
    private const string Callback = "https://app.example.test/cb";
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task AHintThisServerIssued_ReturnsToTheClientWithItsState()
    {
        var (client, idToken) = await IdTokenAsync(protocol);

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", idToken));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{SignedOut}?state=bye", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task NeitherAHintNorAClientId_IsNotReturnedTo()
    {
        // RP-Initiated Logout §3: without an id_token_hint, no post-logout redirection unless the OP can otherwise confirm
        // the target is legitimate; nothing names the client (the OIDF test oidcc-rp-initiated-logout-no-id-token-hint).
        await data.ClientAsync(grants: ["authorization_code"], isPublic: true, redirectUris: [Callback], postLogoutRedirectUris: [SignedOut]);

        var response = await EndSessionAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Contains("signed out", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("http://127.0.0.1:53111/bye", true)]
    [InlineData("http://[::1]:53111/bye", true)]
    [InlineData("http://127.0.0.1:53111/other", false)]
    public async Task ALoopbackPostLogoutUri_TakesAnyPort_AsItsRedirectUriDoes(string presented, bool returned)
    {
        // RFC 8252 §7.3's "any port", for the native app that signs out: its listener has a port of the moment too.
        var client = await data.ClientAsync(grants: ["authorization_code", "password"], isPublic: true, redirectUris: [Callback],
            postLogoutRedirectUris: ["http://127.0.0.1/bye", "http://[::1]/bye"]);
        var idToken = (await protocol.PasswordGrantAsync(client, await data.UserAsync(), scope: "openid")).IdToken!;

        var response = await server.CreateClient().GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["client_id"] = client.ClientId, ["id_token_hint"] = idToken, ["post_logout_redirect_uri"] = presented, ["state"] = "s",
        }));

        if (returned) Assert.Equal($"{presented}?state=s", response.Headers.Location?.OriginalString);
        else Assert.Equal((HttpStatusCode.BadRequest, null), (response.StatusCode, response.Headers.Location));
    }

    [Theory]
    [InlineData("altered signature")]
    [InlineData("altered payload")]
    [InlineData("not a token")]
    public async Task AHintThatDoesNotValidate_IsRefused_AndTheClientIsNotReturnedTo(string damage)
    {
        var (client, idToken) = await IdTokenAsync(protocol);
        var parts = idToken.Split('.');
        var hint = damage switch
        {
            "altered signature" => $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA",
            "altered payload" => $"{parts[0]}.{parts[1][..^4]}AAAA.{parts[2]}",
            _ => "not-a-token",
        };

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", hint));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("id_token_hint", page);
        Assert.Contains("<h1>Sign-out request refused</h1>", page);
    }

    [Fact]
    public async Task AHintIssuedToAnotherClient_IsRefused()
    {
        // §2: with both client_id and id_token_hint, the client must be the one the ID token was issued to.
        var (_, othersIdToken) = await IdTokenAsync(protocol);
        var (client, _) = await IdTokenAsync(protocol);

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", othersIdToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task AnExpiredHint_IsStillAccepted()
    {
        // §2: the OP SHOULD accept an ID token whose exp has passed; logging out is when old ones come back.
        await using var shortLived = server.WithSettings(new Dictionary<string, string?> { ["Identity:Tokens:IdTokenLifetime"] = "00:00:01" });
        var (client, idToken) = await IdTokenAsync(new ProtocolClient(shortLived.HttpsClient()));
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", idToken));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(SignedOut, response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task APostWithoutTheSessionCookie_IsSentBackAsAGet_WhichEndsTheSession()
    {
        // §2: the OP MUST support POST, which a client sends as an auto-submitted form from its own site. The browser
        // leaves the SameSite=Lax session cookie off that cross-site POST, and sends it on the GET the POST is sent to.
        var (client, user, browser, idToken) = await SignedInAsync();
        var form = LogoutForm(client, idToken);

        var posted = await server.CreateClient().PostAsync("/connect/endsession", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var location = posted.Headers.Location!.OriginalString;
        Assert.Equal("/connect/endsession", location.Split('?')[0]);
        Assert.Equal(ByName(form), QueryByName(location));
        Assert.Equal(1, await SessionRowsAsync(user));

        var followed = await browser.GetAsync(location);

        Assert.Equal(HttpStatusCode.Redirect, followed.StatusCode);
        Assert.Equal($"{SignedOut}?state=bye", followed.Headers.Location!.ToString());
        Assert.Equal(0, await SessionRowsAsync(user));
        Assert.Equal("login_required", await PromptNoneAsync(browser, client));
    }

    [Fact]
    public async Task APostWithTheSessionCookie_EndsTheSessionDirectly()
    {
        var (client, user, browser, idToken) = await SignedInAsync();

        var posted = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(LogoutForm(client, idToken)));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Equal($"{SignedOut}?state=bye", posted.Headers.Location!.ToString());
        Assert.Equal(0, await SessionRowsAsync(user));
        Assert.Equal("login_required", await PromptNoneAsync(browser, client));
    }

    [Fact]
    public async Task APostWithoutTheSessionCookie_OfSomeoneSignedOut_EndsAsBefore_AfterOneRedirect()
    {
        // No cookie on the GET either: it is answered as the POST was before, and not sent round again.
        var (client, idToken) = await IdTokenAsync(protocol);
        var cookieless = server.CreateClient();

        var posted = await cookieless.PostAsync("/connect/endsession", new FormUrlEncodedContent(LogoutForm(client, idToken)));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var followed = await cookieless.GetAsync(posted.Headers.Location);

        Assert.Equal(HttpStatusCode.Redirect, followed.StatusCode);
        Assert.Equal($"{SignedOut}?state=bye", followed.Headers.Location!.ToString());
    }

    private async Task<(TestClient Client, string IdToken)> IdTokenAsync(ProtocolClient through)
    {
        var client = await data.ClientAsync(grants: ["authorization_code", "password"], isPublic: true, redirectUris: ["https://app.example.test/cb"],
            postLogoutRedirectUris: [SignedOut]);
        var tokens = await through.PasswordGrantAsync(client, await data.UserAsync(), scope: "openid");
        Assert.NotNull(tokens.IdToken);
        return (client, tokens.IdToken);
    }

    /// <summary>A person signed in in a browser (a cookie jar), and an ID token of that browser session as its client holds it.</summary>
    private async Task<(TestClient Client, TestUser User, HttpClient Browser, string IdToken)> SignedInAsync()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], isPublic: true, redirectUris: [Callback], requireConsent: false,
            postLogoutRedirectUris: [SignedOut]);
        var user = await data.UserAsync();
        var browser = await CodeFlow.SignedInAsync(server, user);
        var verifier = CodeFlow.NewVerifier();
        var authorized = await browser.GetAsync(AuthorizeUrl(client, CodeFlow.Challenge(verifier)));
        var code = QueryHelpers.ParseQuery(authorized.Headers.Location!.Query)["code"].ToString();
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", Callback), ("code_verifier", verifier)));
        Assert.NotNull(tokens.IdToken);
        return (client, user, browser, tokens.IdToken);
    }

    private static string AuthorizeUrl(TestClient client, string challenge) => QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
    {
        ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = Callback, ["scope"] = "openid", ["state"] = "s",
        ["prompt"] = "none", ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
    });

    /// <summary>The error a silent authorization request gets in <paramref name="browser"/>, or "code" when it gets a code.</summary>
    private static async Task<string> PromptNoneAsync(HttpClient browser, TestClient client)
    {
        var query = QueryHelpers.ParseQuery((await browser.GetAsync(AuthorizeUrl(client, CodeFlow.Challenge(CodeFlow.NewVerifier())))).Headers.Location!.Query);
        return query.ContainsKey("code") ? "code" : query["error"].ToString();
    }

    private Task<int> SessionRowsAsync(TestUser user) => data.DbAsync(db => db.BrowserSessions.CountAsync(s => s.UserId == user.Id));

    private static List<KeyValuePair<string, string>> LogoutForm(TestClient client, string idToken) => ProtocolClient.Form(
        ("client_id", client.ClientId), ("id_token_hint", idToken), ("post_logout_redirect_uri", SignedOut), ("state", "bye"));

    /// <summary>Request parameters by name, every value of a repeated name included and kept in its order.</summary>
    internal static List<(string Name, string Value)> ByName(IEnumerable<KeyValuePair<string, string>> parameters) =>
        [.. parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value))];

    /// <summary>A relative URL's query string, as <see cref="ByName"/> lists a form.</summary>
    internal static List<(string Name, string Value)> QueryByName(string url) =>
        ByName(QueryHelpers.ParseQuery(url[url.IndexOf('?')..]).SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v!))));

    private Task<HttpResponseMessage> EndSessionAsync(params (string Name, string? Value)[] parameters) =>
        server.CreateClient().GetAsync(QueryHelpers.AddQueryString("/connect/endsession",
            parameters.Append((Name: "post_logout_redirect_uri", Value: SignedOut)).Append((Name: "state", Value: "bye")).ToDictionary(p => p.Name, p => p.Value)));
}
