using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Pages;

/// <summary>
/// The login page is one client of the password grant's limiter ("login-page"): every person shares its budget, so one
/// address past its own limit must not spend it (SPEC §2: limits keyed by user name, client and address).
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
}
