using System.Diagnostics;
using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenQA.Selenium;

namespace Identity.Server.Tests.Pages;

/// <summary>
/// The device flow (RFC 8628) as it is lived: a plain HTTP client plays the TV (device authorization, then polling at
/// the interval it was given), headless Chromium plays the person on /connect/verify (sign in first, the code typed or
/// prefilled, then a consent naming the device's client and scopes).
/// </summary>
public sealed class DeviceVerificationPageTests : IClassFixture<BrowserHost>, IDisposable
{
    private readonly BrowserHost host;
    private readonly IWebDriver browser = BrowserHost.StartBrowser();
    private readonly TestData data;
    private readonly ProtocolClient tv;

    public DeviceVerificationPageTests(BrowserHost host)
    {
        this.host = host;
        data = new TestData(host.Server);
        tv = new ProtocolClient(host.Http);
    }

    public void Dispose() => browser.Quit();

    private Task<TestClient> TvClientAsync() =>
        data.ClientAsync(grants: [DeviceFlow.GrantType, "refresh_token"], isPublic: true, scopes: ["openid", "profile", "offline_access"]);

    [Fact]
    public async Task PersonTypesTheCodeAndAllows_TheTvGetsTokensAtItsNextPoll()
    {
        var (client, user) = (await TvClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(tv, client, scope: "openid profile offline_access");
        var sincePoll = Stopwatch.StartNew();
        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(tv, client, started.DeviceCode)));

        browser.Navigate().GoToUrl(started.VerificationUri);
        SignIn(user);
        // Typed as a person might: lower case, no dash.
        browser.WaitFor(By.Id("user-code-input")).SendKeys(started.UserCode.Replace("-", "").ToLowerInvariant());
        browser.FindElement(By.Id("continue")).Click();
        Assert.Equal(started.UserCode, browser.WaitFor(By.Id("user-code")).Text);
        Assert.Contains(client.ClientId, browser.FindElement(By.Id("client-name")).Text);
        Assert.Contains("stay signed in", browser.FindElement(By.Id("scopes")).Text);
        browser.FindElement(By.Id("allow")).Click();
        Assert.Contains("Your device is connected", browser.WaitFor(By.Id("message")).Text);

        // The TV keeps the interval it was given.
        var wait = TimeSpan.FromSeconds(started.Interval) - sincePoll.Elapsed;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        var tokens = await DeviceFlow.PollAsync(tv, client, started.DeviceCode);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal(user.Id, new JsonWebToken(tokens.IdToken).Subject);
        Assert.NotNull(tokens.RefreshToken);
    }

    [Fact]
    public async Task PersonOpensThePrefilledLinkAndDenies_TheTvIsToldAccessDenied()
    {
        var (client, user) = (await TvClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(tv, client, scope: "openid");

        browser.Navigate().GoToUrl(started.VerificationUriComplete);
        SignIn(user);
        Assert.Equal(started.UserCode, browser.WaitFor(By.Id("user-code")).Text);
        browser.FindElement(By.Id("deny")).Click();
        Assert.Contains("You denied the request", browser.WaitFor(By.Id("message")).Text);

        var poll = await DeviceFlow.PollAsync(tv, client, started.DeviceCode);
        Assert.Equal(HttpStatusCode.BadRequest, poll.Status);
        Assert.Equal("access_denied", poll.Error);

        // The code is spent: opening the link again says so.
        browser.Navigate().GoToUrl(started.VerificationUriComplete);
        Assert.Contains("denied", browser.WaitFor(By.Id("message")).Text);
    }

    private void SignIn(TestUser user)
    {
        browser.WaitFor(By.Id("username")).SendKeys(user.UserName);
        browser.FindElement(By.Id("password")).SendKeys(user.Password);
        browser.FindElement(By.CssSelector("form button[type=submit]")).Click();
    }
}
