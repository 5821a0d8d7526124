using System.Net;
using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Accounts;

[Collection(ServerCollection.Name)]
public sealed class EmailConfirmationTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);

    private Task<(HttpResponseMessage Response, System.Text.Json.JsonElement Json)> ConfirmAsync(EmailLink link, string? token = null) =>
        api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(token ?? link.Token)}");

    [Fact]
    public async Task Link_ConfirmsOnce_ThenIs400()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");

        var (first, json) = await ConfirmAsync(link);
        var (second, again) = await ConfirmAsync(link);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("confirmed", json.GetProperty("message").GetString());
        // SPEC §3: the token is single-use. (The page the link opens may still say "already confirmed".)
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.True(again.GetProperty("errors").TryGetProperty("token", out _));
        // Also what a superseded link that was never used hears: not "already used".
        Assert.Equal("The address this link confirms is already confirmed.", again.GetProperty("errors").GetProperty("token")[0].GetString());
    }

    [Theory]
    [InlineData("userId", true)]
    [InlineData("userId", false)]
    [InlineData("token", true)]
    [InlineData("token", false)]
    [InlineData("USERID", true)]
    public async Task ARepeatedParameter_Is400NamingIt_AndConfirmsNothing(string repeated, bool genuineFirst)
    {
        // SPEC §6. Binding took the first value, so a genuine link with a second userId or token appended still confirmed.
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");
        var genuine = repeated.Equals("userId", StringComparison.OrdinalIgnoreCase) ? link.UserId : Uri.EscapeDataString(link.Token);
        var values = genuineFirst ? new[] { genuine, "other" } : ["other", genuine];
        var query = repeated.Equals("userId", StringComparison.OrdinalIgnoreCase)
            ? $"userId={values[0]}&{repeated}={values[1]}&token={Uri.EscapeDataString(link.Token)}"
            : $"userId={link.UserId}&token={values[0]}&{repeated}={values[1]}";

        var (response, json) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = json.GetProperty("errors");
        Assert.Equal(["This parameter appears more than once; send it once."],
            errors.GetProperty(repeated.Equals("userId", StringComparison.OrdinalIgnoreCase) ? "userId" : "token").EnumerateArray().Select(e => e.GetString()));
        await using var scope = server.Services.CreateAsyncScope();
        Assert.False((await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(link.UserId))!.EmailConfirmed);
        // The link was not used up: sent alone, it still confirms.
        Assert.Equal(HttpStatusCode.OK, (await ConfirmAsync(link)).Response.StatusCode);
    }

    [Fact]
    public async Task WrongToken_Is400()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");
        var (response, _) = await ConfirmAsync(link, "forged" + link.Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ExpiredLink_Is400()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostApi = new AccountApi(host.HttpsClient(), server.Mail);
        var email = AccountApi.NewEmail();
        await hostApi.RegisterAsync(email);
        var link = await hostApi.LinkAsync(email, "/account/confirm-email");

        // The link's 24 hours start when the fixture's job sent it, on the real clock, moments after this clock's start.
        time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));

        var (response, _) = await hostApi.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task NewLink_InvalidatesThePreviousOne()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var first = await api.LinkAsync(email, "/account/confirm-email");

        Assert.Equal(HttpStatusCode.Accepted, (await api.SendAsync(HttpMethod.Post, "/api/account/confirm-email/resend", new { email })).Response.StatusCode);
        await WaitForCountAsync(email, 2);
        var second = await api.LinkAsync(email, "/account/confirm-email");

        Assert.NotEqual(first.Token, second.Token);
        Assert.Equal(HttpStatusCode.BadRequest, (await ConfirmAsync(first)).Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ConfirmAsync(second)).Response.StatusCode);
    }

    [Fact]
    public async Task Resend_ForAnUnknownAddress_Is202AndSendsNothing()
    {
        var email = AccountApi.NewEmail();
        var (response, _) = await api.SendAsync(HttpMethod.Post, "/api/account/confirm-email/resend", new { email });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Task.Delay(1000);
        Assert.Equal(0, await api.CountMessagesAsync(email));
    }

    [Fact]
    public async Task Resend_IsRateLimitedPerAddress_StillAnswering202()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email); // one email
        for (var i = 0; i < 8; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await api.SendAsync(HttpMethod.Post, "/api/account/confirm-email/resend", new { email })).Response.StatusCode);
        await WaitForCountAsync(email, 1 + 5); // registration's, then five per hour
        await Task.Delay(1500); // several more dispatch runs: nothing else may arrive
        Assert.Equal(1 + 5, await api.CountMessagesAsync(email));
    }

    private async Task WaitForCountAsync(string email, int count)
    {
        for (var i = 0; i < 150 && await api.CountMessagesAsync(email) < count; i++) await Task.Delay(200);
    }

    [Theory]
    [InlineData("registration")]
    [InlineData("changed address")]
    public async Task AWrongPasswordCountedDuringTheConfirmation_DoesNotLeaveTheAddressUnconfirmed(string which)
    {
        // The confirmation reads the user, then a wrong password is counted (LockoutCounter renews the concurrency
        // stamp) before it writes: its write of the user as read lost on the stamp, and the answer was Confirmed all the
        // same, with the link used up and the address unconfirmed (or, for a change, not moved). Holding the user read
        // in the confirmation's own scope makes the race certain.
        string email;
        if (which == "registration")
        {
            email = AccountApi.NewEmail();
            await api.RegisterAsync(email);
        }
        else
        {
            var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
            email = AccountApi.NewEmail();
            await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email }, user.Tokens.AccessToken);
        }
        var link = await api.LinkAsync(email, "/account/confirm-email");
        var userId = link.UserId;

        await using var confirming = server.Services.CreateAsyncScope();
        await confirming.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(userId);
        await using (var counting = server.Services.CreateAsyncScope())
            await counting.ServiceProvider.GetRequiredService<LockoutCounter>().CountFailureAsync(userId);
        var outcome = await confirming.ServiceProvider.GetRequiredService<EmailConfirmationHandler>().ConfirmAsync(userId, link.Token, CancellationToken.None);

        Assert.Equal(ConfirmationOutcome.Confirmed, outcome);
        await using var reading = server.Services.CreateAsyncScope();
        var stored = await reading.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(userId);
        Assert.Equal((email, true), (stored!.Email, stored.EmailConfirmed));
    }
}
