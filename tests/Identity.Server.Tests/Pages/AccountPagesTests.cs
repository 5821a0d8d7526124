using System.Net;
using Identity.Server.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Identity.Server.Tests.Pages;

/// <summary>What a person does with the emailed links, in real headless Chromium against a real socket.</summary>
public sealed class AccountPagesTests : IClassFixture<BrowserHost>, IDisposable
{
    private readonly BrowserHost host;
    private readonly AccountApi api;
    private readonly IWebDriver browser = BrowserHost.StartBrowser();

    public AccountPagesTests(BrowserHost host)
    {
        this.host = host;
        api = new AccountApi(host.Http, host.Mail);
    }

    public void Dispose() => browser.Quit();

    [Fact]
    public async Task ConfirmationLink_ConfirmsTheAccount_AndSignInThenWorks()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");
        Assert.StartsWith(host.BaseAddress.ToString(), link.Uri.ToString());

        browser.Navigate().GoToUrl(link.Uri);

        AssertMessage("is confirmed");
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(email, TestData.DefaultPassword)).Status);
        browser.Navigate().GoToUrl(link.Uri);
        AssertMessage("already confirmed");
    }

    [Fact]
    public async Task BadConfirmationLink_SaysSo_AndOffersANewLink()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");

        browser.Navigate().GoToUrl(new Uri(host.BaseAddress, $"/account/confirm-email?userId={link.UserId}&token=forged"));
        AssertMessage("invalid or has expired");
        browser.FindElement(By.Id("email")).SendKeys(email);
        browser.FindElement(By.CssSelector("form button[type=submit]")).Click();

        AssertMessage("new link is on its way");
        var fresh = await api.LinkAsync(email, "/account/confirm-email", count: 2);
        Assert.NotEqual(link.Token, fresh.Token);
        browser.Navigate().GoToUrl(fresh.Uri);
        AssertMessage("is confirmed");
    }

    [Fact]
    public async Task ForgotThenReset_InTheBrowser_ChangesThePassword()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        browser.Navigate().GoToUrl((await api.LinkAsync(email, "/account/confirm-email")).Uri);

        browser.Navigate().GoToUrl(new Uri(host.BaseAddress, "/account/forgot-password"));
        browser.FindElement(By.Id("email")).SendKeys(email);
        browser.FindElement(By.CssSelector("form button[type=submit]")).Click();
        AssertMessage("link to reset");

        var link = await api.LinkAsync(email, "/account/reset-password");
        browser.Navigate().GoToUrl(link.Uri);
        const string newPassword = "a brand new passphrase";
        browser.FindElement(By.Id("password")).SendKeys(newPassword);
        browser.FindElement(By.Id("confirm")).SendKeys(newPassword);
        browser.FindElement(By.CssSelector("form button[type=submit]")).Click();

        AssertMessage("password is changed");
        Assert.Equal("invalid_grant", (await SignInAsync(email, TestData.DefaultPassword)).Error);
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(email, newPassword)).Status);
        browser.Navigate().GoToUrl(link.Uri);
        AssertMessage("already used");
    }

    [Fact]
    public async Task FailuresOnTheLoginPage_LockThePasswordGrantToo()
    {
        var user = await new TestData(host.Server).UserAsync();
        for (var i = 0; i < 5; i++)
        {
            browser.Navigate().GoToUrl(new Uri(host.BaseAddress, "/account/login"));
            browser.FindElement(By.Id("username")).SendKeys(user.UserName);
            browser.FindElement(By.Id("password")).SendKeys("wrong password " + i);
            browser.FindElement(By.CssSelector("form button[type=submit]")).Click();
            AssertMessage("wrong");
        }

        var grant = await SignInAsync(user.UserName, user.Password);

        Assert.Equal("invalid_grant", grant.Error);
        Assert.Contains("locked", grant.ErrorDescription);
    }

    [Fact]
    public async Task Forms_RequireTheAntiForgeryToken_AndSayWhenItFailed()
    {
        var response = await host.Http.PostAsync("/account/forgot-password?from=here", new FormUrlEncodedContent([new("Email", "someone@example.test")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // A page, not an empty 400 (the browser's own error page): a person's form left open while its token was
        // replaced ends here too.
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("This form has expired", page);
        Assert.Contains("href=\"/account/forgot-password?from=here\"", page);
    }

    [Fact]
    public async Task TheAntiForgeryCookie_IsLax_SoThatAnArrivalFromAnotherSiteKeepsIt()
    {
        // Strict stayed off a top-level arrival from another site; a new cookie was issued and broke forms in other tabs.
        var response = await host.Http.GetAsync("/account/forgot-password");
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Pages_AreNotFramable_AndSendNoReferrer()
    {
        var response = await host.Http.GetAsync("/account/forgot-password");
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    /// <summary>Waits for the page's outcome message to say <paramref name="expected"/>: a click's navigation may still be under way.</summary>
    private void AssertMessage(string expected)
    {
        var text = "";
        browser.Until(() => (text = browser.FindElements(By.Id("message")).FirstOrDefault()?.Text ?? "").Contains(expected, StringComparison.Ordinal),
            () => $"#message on {browser.Url} says \"{text}\", not \"{expected}\".");
    }

    private async Task<TokenResult> SignInAsync(string email, string password)
    {
        var client = await new TestData(host.Server).ClientAsync(isPublic: true);
        return await new ProtocolClient(host.Http).PasswordGrantAsync(client, new TestUser("", email, email, password));
    }
}
