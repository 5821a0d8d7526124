using System.Net;
using Identity.Server.Tests.Infrastructure;
using Identity.Server.Tests.Protocol.Token;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using OpenQA.Selenium;

namespace Identity.Server.Tests.Pages;

/// <summary>A third-party app's sign-in as a person lives it: headless Chromium on the login and consent pages.</summary>
public sealed class AuthorizationCodeFlowTests : IClassFixture<BrowserHost>, IDisposable
{
    private readonly BrowserHost host;
    private readonly IWebDriver browser = BrowserHost.StartBrowser();
    private readonly TestData data;
    private readonly ProtocolClient protocol;
    private readonly string redirectUri;

    public AuthorizationCodeFlowTests(BrowserHost host)
    {
        this.host = host;
        data = new TestData(host.Server);
        protocol = new ProtocolClient(host.Http);
        redirectUri = new Uri(host.BaseAddress, "/callback").ToString();
    }

    public void Dispose() => browser.Quit();

    [Fact]
    public async Task LoginConsentAndCode_GiveTokens_WhoseIdTokenValidatesAgainstJwks()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var verifier = AuthorizationCodeGrantTests.NewVerifier();

        browser.Navigate().GoToUrl(AuthorizeUrl(client, verifier, nonce: "nonce-1"));
        SignIn(user);
        Assert.Contains(client.ClientId, browser.WaitFor(By.Id("client-name")).Text);
        Assert.Contains("stay signed in", browser.FindElement(By.Id("scopes")).Text);
        browser.FindElement(By.Id("allow")).Click();

        var callback = WaitForCallback();
        Assert.Equal("s-1", callback["state"]);
        Assert.Equal(host.BaseAddress.ToString(), callback["iss"]);
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", callback["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);

        var configuration = await new ConfigurationManager<OpenIdConnectConfiguration>(new Uri(host.BaseAddress, "/.well-known/openid-configuration").ToString(),
            new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever(host.Http) { RequireHttps = false }).GetConfigurationAsync(default);
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(tokens.IdToken, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer, ValidAudience = client.ClientId, IssuerSigningKeys = configuration.SigningKeys,
        });
        Assert.True(validated.IsValid, validated.Exception?.ToString());
        Assert.Equal(user.Id, validated.Claims["sub"]);
        Assert.Equal("nonce-1", validated.Claims["nonce"]);
        Assert.True(validated.Claims.ContainsKey("auth_time"));
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(client, tokens.RefreshToken!)).Status);

        // Consent is remembered: the next request goes straight back to the app.
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        Assert.True(WaitForCallback().ContainsKey("code"));
    }

    [Fact]
    public async Task PushedRequest_LoginConsentAndCode_GiveTokens()
    {
        var client = await data.ClientAsync(grants: ["authorization_code", "refresh_token"], redirectUris: [redirectUri], requirePushedAuthorizationRequests: true);
        var user = await data.UserAsync();
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        var pushed = await protocol.TokenAsync(client, ProtocolClient.Form(("response_type", "code"), ("redirect_uri", redirectUri),
            ("scope", "openid profile offline_access"), ("state", "s-par"), ("nonce", "nonce-par"),
            ("code_challenge", AuthorizationCodeGrantTests.Challenge(verifier)), ("code_challenge_method", "S256")), "/connect/par");
        Assert.Equal(HttpStatusCode.Created, pushed.Status);

        browser.Navigate().GoToUrl(QueryHelpers.AddQueryString(new Uri(host.BaseAddress, "/connect/authorize").ToString(),
            new Dictionary<string, string?> { ["client_id"] = client.ClientId, ["request_uri"] = pushed.Field("request_uri") }));
        SignIn(user);
        Assert.Contains("stay signed in", browser.WaitFor(By.Id("scopes")).Text);
        browser.FindElement(By.Id("allow")).Click();

        var callback = WaitForCallback();
        Assert.Equal("s-par", callback["state"]);
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", callback["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal("nonce-par", new JsonWebToken(tokens.IdToken).GetPayloadValue<string>("nonce"));

        // The same client's plain request is refused (RequirePushedAuthorizationRequests), back at its redirect URI.
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        Assert.Equal("invalid_request", WaitForCallback()["error"]);
    }

    [Fact]
    public async Task DenyAtConsent_SendsAccessDenied()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(user);
        browser.WaitFor(By.Id("deny")).Click();

        var callback = WaitForCallback();
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("s-1", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Theory]
    [InlineData("prompt=login")]
    [InlineData("prompt=select_account")]
    [InlineData("max_age=1")]
    [InlineData("max_age=0")]
    public async Task SignedIn_ButAskedToSignInAgain_SeesTheLoginPage_AndTheNewSignInIsTheAuthTime(string ask)
    {
        var (client, user) = (await CodeClientAsync(requireConsent: false), await data.UserAsync());
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(user);
        WaitForCallback();
        await Task.Delay(TimeSpan.FromSeconds(2.1)); // auth_time counts seconds, and max_age=1 is over
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // OIDC Core §3.1.2.1: the session exists, yet the person is asked to sign in (again, or as someone else).
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, verifier) + "&" + ask);
        browser.WaitFor(By.Id("username"));
        Assert.Contains("/account/login", browser.Url);
        SignIn(user);
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));

        Assert.True(new JsonWebToken(tokens.IdToken).GetPayloadValue<long>("auth_time") >= before, "auth_time is the new sign-in");
    }

    [Fact]
    public async Task WrongPassword_StaysOnTheLoginPage()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(user with { Password = "not the password" });
        Assert.Contains("wrong", browser.WaitFor(By.Id("message")).Text);
        Assert.Contains("/account/login", browser.Url);
    }

    [Fact]
    public async Task EndSession_SignsOut_AndReturnsToTheRegisteredUri()
    {
        var (client, user) = (await CodeClientAsync(requireConsent: false), await data.UserAsync());
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, verifier));
        SignIn(user);
        var code = WaitForCallback()["code"];
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));

        var logoutUrl = QueryHelpers.AddQueryString(new Uri(host.BaseAddress, "/connect/endsession").ToString(), new Dictionary<string, string?>
        {
            ["id_token_hint"] = tokens.IdToken, ["post_logout_redirect_uri"] = new Uri(host.BaseAddress, "/signed-out").ToString(), ["state"] = "bye",
        });
        browser.Navigate().GoToUrl(logoutUrl);
        browser.Until(() => browser.Url.Contains("/signed-out"));
        Assert.Contains("state=bye", browser.Url);

        // Signed out: prompt=none now answers login_required.
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()) + "&prompt=none");
        Assert.Equal("login_required", WaitForCallback()["error"]);
    }

    [Fact]
    public async Task EndSession_PostedFromTheClientsSite_SignsOut()
    {
        // RP-Initiated Logout §2: the client may POST the request, as an auto-submitted form on its own site. The browser
        // keeps the SameSite=Lax session cookie off that cross-site POST; sent back as a GET, the request has it.
        var (client, user) = (await CodeClientAsync(requireConsent: false), await data.UserAsync());
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, verifier));
        SignIn(user);
        var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));

        // A page of another site (a data: URL's opaque origin) that posts the request at once.
        var fields = string.Concat(new[] { ("id_token_hint", tokens.IdToken!), ("post_logout_redirect_uri", SignedOutUri), ("state", "bye") }
            .Select(f => $"<input type=\"hidden\" name=\"{f.Item1}\" value=\"{WebUtility.HtmlEncode(f.Item2)}\">"));
        var page = $"<form method=\"post\" action=\"{new Uri(host.BaseAddress, "/connect/endsession")}\">{fields}</form><script>document.forms[0].submit()</script>";
        browser.Navigate().GoToUrl("data:text/html;charset=utf-8," + Uri.EscapeDataString(page));
        browser.Until(() => browser.Url.StartsWith(SignedOutUri, StringComparison.Ordinal));
        Assert.Contains("state=bye", browser.Url);

        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()) + "&prompt=none");
        Assert.Equal("login_required", WaitForCallback().GetValueOrDefault("error"));
    }

    [Fact]
    public async Task EndSession_WithoutAnIdTokenHint_AsksBeforeSigningOut()
    {
        var (client, user) = (await CodeClientAsync(requireConsent: false), await data.UserAsync());
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(user);
        WaitForCallback();

        // RP-Initiated Logout §2: without an id_token_hint the OP MUST ask; a link alone signs nobody out.
        var logoutUrl = EndSessionUrl(("client_id", client.ClientId), ("post_logout_redirect_uri", SignedOutUri), ("state", "bye"));
        browser.Navigate().GoToUrl(logoutUrl);
        Assert.Contains("asked to sign you out", browser.WaitFor(By.Id("asked-by-application")).Text);
        Assert.Contains("/account/logout", browser.Url);
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()) + "&prompt=none");
        Assert.True(WaitForCallback().ContainsKey("code"), "still signed in after the unconfirmed logout request");

        browser.Navigate().GoToUrl(logoutUrl);
        browser.WaitFor(By.Id("sign-out")).Click();
        browser.Until(() => browser.Url.StartsWith(SignedOutUri, StringComparison.Ordinal));
        Assert.Contains("state=bye", browser.Url);
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()) + "&prompt=none");
        Assert.Equal("login_required", WaitForCallback()["error"]);
    }

    [Fact]
    public async Task EndSession_WithTheIdTokenOfAnEarlierSession_AsksBeforeSigningOut()
    {
        var (client, user) = (await CodeClientAsync(requireConsent: false), await data.UserAsync());
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, verifier));
        SignIn(user);
        var earlier = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));
        browser.Navigate().GoToUrl(new Uri(host.BaseAddress, "/account/logout").ToString());
        browser.WaitFor(By.Id("sign-out")).Click();
        // The sign-out POST must finish before the next navigation, or its answer replaces the login page.
        Assert.Contains("signed out", browser.WaitFor(By.Id("message")).Text);
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(user);
        WaitForCallback();

        // The same person, but the hint names a session that has ended: "does not belong to the current OP session".
        browser.Navigate().GoToUrl(EndSessionUrl(("id_token_hint", earlier.IdToken), ("post_logout_redirect_uri", SignedOutUri), ("state", "bye")));
        browser.WaitFor(By.Id("asked-by-application"));
        // The page's own URL leaves the ID token out (it names the person; a client that POSTs keeps it out of URLs).
        Assert.DoesNotContain(earlier.IdToken!, browser.Url);
        Assert.Contains(Uri.EscapeDataString(client.ClientId), browser.Url);
        var confirmation = browser.Url;
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()) + "&prompt=none");
        Assert.True(WaitForCallback().ContainsKey("code"), "still signed in after the logout request with another session's id_token");

        // Confirmed, it returns to the client's registered URI with its state, the client standing in for the hint.
        browser.Navigate().GoToUrl(confirmation);
        browser.WaitFor(By.Id("sign-out")).Click();
        browser.Until(() => browser.Url.StartsWith(SignedOutUri, StringComparison.Ordinal));
        Assert.Contains("state=bye", browser.Url);
    }

    [Fact]
    public async Task EndSession_WithNobodySignedIn_ReturnsAtOnce()
    {
        var client = await CodeClientAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var response = await http.GetAsync(EndSessionUrl(("client_id", client.ClientId), ("post_logout_redirect_uri", SignedOutUri), ("state", "bye")));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(SignedOutUri + "?state=bye", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task LogoutPage_ReturnsOnlyToTheEndSessionEndpoint()
    {
        var user = await data.UserAsync();
        var client = await CodeClientAsync(requireConsent: false);
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(user);
        WaitForCallback();

        browser.Navigate().GoToUrl(new Uri(host.BaseAddress, "/account/logout?returnUrl=" + Uri.EscapeDataString("https://evil.example.test/")).ToString());
        Assert.Empty(browser.FindElements(By.Id("asked-by-application")));
        browser.WaitFor(By.Id("sign-out")).Click();
        Assert.Contains("signed out", browser.WaitFor(By.Id("message")).Text);
        Assert.StartsWith(host.BaseAddress.ToString(), browser.Url);
    }

    [Fact]
    public async Task RequestWhoseIdTokenHintNamesSomeoneElse_IsLoginRequiredSilently_AndShowsTheLoginPageOtherwise()
    {
        var (client, first, second) = (await CodeClientAsync(requireConsent: false), await data.UserAsync(), await data.UserAsync());
        var verifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, verifier));
        SignIn(first);
        var firstTokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", verifier)));
        browser.Navigate().GoToUrl(new Uri(host.BaseAddress, "/account/logout").ToString());
        browser.WaitFor(By.Id("sign-out")).Click();
        browser.WaitFor(By.Id("message"));
        browser.Navigate().GoToUrl(AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()));
        SignIn(second);
        WaitForCallback();

        // OIDC Core §3.1.2.1: the hint names the first person, the browser is the second's.
        var silent = AuthorizeUrl(client, AuthorizationCodeGrantTests.NewVerifier()) + "&prompt=none&id_token_hint=";
        browser.Navigate().GoToUrl(silent + Uri.EscapeDataString(firstTokens.IdToken!));
        var refused = WaitForCallback();
        Assert.Equal("login_required", refused["error"]);
        Assert.False(refused.ContainsKey("code"));

        var secondVerifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, secondVerifier) + "&prompt=none");
        var secondTokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", secondVerifier)));
        browser.Navigate().GoToUrl(silent + Uri.EscapeDataString(secondTokens.IdToken!));
        Assert.True(WaitForCallback().ContainsKey("code"), "the hint of the person signed in is answered with a code");

        // Asked interactively, the first person's hint shows the login page, and the first person's sign-in answers it.
        var thirdVerifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, thirdVerifier) + "&id_token_hint=" + Uri.EscapeDataString(firstTokens.IdToken!));
        browser.WaitFor(By.Id("username"));
        Assert.Contains("/account/login", browser.Url);
        SignIn(first);
        var thirdTokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", thirdVerifier)));
        Assert.Equal(new JsonWebToken(firstTokens.IdToken).Subject, new JsonWebToken(thirdTokens.IdToken).Subject);

        // Whoever signs in answers it, also someone other than the hint named: not the login page again and again.
        var fourthVerifier = AuthorizationCodeGrantTests.NewVerifier();
        browser.Navigate().GoToUrl(AuthorizeUrl(client, fourthVerifier) + "&id_token_hint=" + Uri.EscapeDataString(secondTokens.IdToken!));
        SignIn(first);
        var fourthTokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", WaitForCallback()["code"]),
            ("redirect_uri", redirectUri), ("code_verifier", fourthVerifier)));
        Assert.Equal(new JsonWebToken(firstTokens.IdToken).Subject, new JsonWebToken(fourthTokens.IdToken).Subject);
    }

    [Fact]
    public async Task EndSession_WithAnUnregisteredRedirect_IsRefused()
    {
        var client = await CodeClientAsync();
        var response = await host.Http.GetAsync($"/connect/endsession?client_id={client.ClientId}&post_logout_redirect_uri={Uri.EscapeDataString("https://evil.example.test/")}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    private string SignedOutUri => new Uri(host.BaseAddress, "/signed-out").ToString();

    private string EndSessionUrl(params (string Name, string? Value)[] parameters) =>
        QueryHelpers.AddQueryString(new Uri(host.BaseAddress, "/connect/endsession").ToString(), parameters.ToDictionary(p => p.Name, p => p.Value));

    private Task<TestClient> CodeClientAsync(bool requireConsent = true) =>
        data.ClientAsync(grants: ["authorization_code", "refresh_token"], redirectUris: [redirectUri], requireConsent: requireConsent,
            postLogoutRedirectUris: [new Uri(host.BaseAddress, "/signed-out").ToString()]);

    private string AuthorizeUrl(TestClient client, string verifier, string? nonce = null) =>
        QueryHelpers.AddQueryString(new Uri(host.BaseAddress, "/connect/authorize").ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = redirectUri, ["scope"] = "openid profile offline_access",
            ["state"] = "s-1", ["nonce"] = nonce, ["code_challenge"] = AuthorizationCodeGrantTests.Challenge(verifier), ["code_challenge_method"] = "S256",
        });

    private void SignIn(TestUser user)
    {
        browser.WaitFor(By.Id("username")).SendKeys(user.UserName);
        browser.FindElement(By.Id("password")).SendKeys(user.Password);
        browser.FindElement(By.CssSelector("form button[type=submit]")).Click();
    }

    private Dictionary<string, string> WaitForCallback()
    {
        browser.Until(() => browser.Url.StartsWith(redirectUri, StringComparison.Ordinal));
        return QueryHelpers.ParseQuery(new Uri(browser.Url).Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }
}
