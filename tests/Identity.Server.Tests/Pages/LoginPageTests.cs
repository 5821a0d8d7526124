using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Pages;

/// <summary>
/// The login page over HTTP. It is one client of the password grant's limiter ("login-page"): every person shares its
/// budget, so one address past its own limit must not spend it (SPEC §2: limits keyed by user name, client and address).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LoginPageTests(ServerFixture server)
{
    [Fact]
    public async Task OneAddressPastItsLimit_LeavesThePageToEveryoneElse()
    {
        // Scaled down: the page's budget is 5, an address's 3.
        await using var host = server.WithSettings(new Dictionary<string, string?>
        {
            ["Identity:RateLimits:PasswordGrant:PerClientPerMinute"] = "5",
            ["Identity:RateLimits:PasswordGrant:PerAddressPerMinute"] = "3",
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        });
        var user = await new TestData(host).UserAsync();
        var attacker = host.HttpsClientFrom("203.0.113.9");
        var antiforgery = CodeFlow.Antiforgery(await attacker.GetStringAsync("/account/login"));

        var flood = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var response = await attacker.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["UserName"] = $"nobody{i}", ["Password"] = "wrong", ["__RequestVerificationToken"] = antiforgery,
            }));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.Content.ReadAsStringAsync();
            flood.Add(page.Contains("Too many attempts") ? "limited" : page.Contains("is wrong") ? "wrong" : page);
        }

        Assert.Equal([.. Enumerable.Repeat("wrong", 3), .. Enumerable.Repeat("limited", 7)], flood);
        var signedIn = await CodeFlow.LogInAsync(host.HttpsClientFrom("198.51.100.4"), user, returnUrl: null); // asserts the redirect
        Assert.Equal("/account/login?signedIn=1", signedIn.OriginalString);
    }

    [Fact]
    public async Task AnUnconfirmedAccountsRightPassword_OffersANewConfirmationLink_AndTheFormIsThere()
    {
        // The link in the email lives 24 hours; after that the only form that sends a new one was reachable from nowhere.
        var user = await new TestData(server).UserAsync(emailConfirmed: false);
        var browser = server.HttpsClient();

        var right = await PostLoginAsync(browser, user.UserName, user.Password);
        var wrong = await PostLoginAsync(browser, user.UserName, "not the password");
        var form = await browser.GetStringAsync("/account/confirm-email");

        Assert.Contains("Confirm your email address first", right);
        Assert.Contains("href=\"/account/confirm-email\"", right);
        Assert.DoesNotContain("/account/confirm-email", wrong); // only after the right password: no enumeration
        Assert.Contains("name=\"Email\"", form);
        Assert.DoesNotContain("invalid or has expired", form);
    }

    [Fact]
    public async Task OverHttpsOnly_TheSessionAndAntiForgeryCookies_AreBoundToThisHost()
    {
        // __Host-: a browser takes such a cookie only from this host, Secure, Path=/, so a sibling subdomain cannot plant
        // its own session (login CSRF) or anti-forgery pair here.
        var user = await new TestData(server).UserAsync();
        var browser = server.HttpsClient();
        var page = await browser.GetAsync("/account/login");
        var antiforgery = CodeFlow.Antiforgery(await page.Content.ReadAsStringAsync());
        var signIn = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user.UserName, ["Password"] = user.Password, ["__RequestVerificationToken"] = antiforgery,
        }));

        foreach (var (response, name) in new[] { (page, "__Host-antiforgery="), (signIn, "__Host-identity_session=") })
        {
            var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(name, StringComparison.Ordinal));
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            Assert.Contains("secure", attributes);
            Assert.Contains("path=/", attributes);
            Assert.DoesNotContain(attributes, a => a.StartsWith("domain=", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task AReturnUrlWithNonAsciiCharacters_IsFollowedEncoded_OnSignInAndSignOut()
    {
        // The bound returnUrl is decoded, and a raw é in the Location header threw: a 500 after the sign-in was made.
        var user = await new TestData(server).UserAsync();
        var browser = server.HttpsClient();

        var signedIn = await CodeFlow.LogInAsync(browser, user, "/connect/authorize?client_id=app&state=café 1");
        var logoutPage = await browser.GetStringAsync("/account/logout");
        var signedOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ReturnUrl"] = "/connect/endsession?state=café", ["__RequestVerificationToken"] = CodeFlow.Antiforgery(logoutPage),
        }));

        Assert.Equal("/connect/authorize?client_id=app&state=caf%C3%A9%201", signedIn.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal("/connect/endsession?state=caf%C3%A9", signedOut.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task AnAddressWithATrailingSpace_SignsIn()
    {
        // A phone keyboard adds a space after an address it completed; no account's address ends with one.
        var user = await new TestData(server).UserAsync();
        var signedIn = await CodeFlow.LogInAsync(server.HttpsClient(), user with { UserName = user.Email + " " }, returnUrl: null); // asserts the redirect
        Assert.Equal("/account/login?signedIn=1", signedIn.OriginalString);
    }

    private static async Task<string> PostLoginAsync(HttpClient browser, string userName, string password)
    {
        var antiforgery = CodeFlow.Antiforgery(await browser.GetStringAsync("/account/login"));
        var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = userName, ["Password"] = password, ["__RequestVerificationToken"] = antiforgery,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
