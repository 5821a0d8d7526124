using System.Net;
using System.Text.RegularExpressions;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// The device authorization grant (RFC 8628, SPEC §2) over HTTP: the device's requests and polls, and the person's
/// answer on /connect/verify with a signed-in cookie jar (Pages/DeviceFlowPageTests does it in a browser).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class DeviceFlowTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient device = new(server.CreateClient());

    private Task<TestClient> DeviceClientAsync(bool isPublic = true, string[]? scopes = null) =>
        data.ClientAsync(grants: [DeviceFlow.GrantType, "refresh_token"], isPublic: isPublic, scopes: scopes ?? ["openid", "profile", "offline_access", TestData.ApiScope]);

    [Fact]
    public async Task DeviceAuthorization_AnswersEveryRfc8628Field()
    {
        var client = await DeviceClientAsync();

        var response = await device.TokenAsync(client, ProtocolClient.Form(("scope", "openid")), "/connect/device");
        var started = DeviceAuthorization.From(response);

        Assert.True(response.Response.Headers.CacheControl?.NoStore);
        Assert.Matches(UserCodeShape(), started.UserCode);
        Assert.Equal("https://localhost/connect/verify", started.VerificationUri);
        Assert.Equal(QueryHelpers.AddQueryString(started.VerificationUri, "user_code", started.UserCode), started.VerificationUriComplete);
        Assert.Equal(600, started.ExpiresIn);
        Assert.Equal(5, started.Interval);
        Assert.True(started.DeviceCode.Length >= 43);
    }

    [Fact]
    public async Task VerificationUris_AreUnderTheConfiguredIssuer_WhateverTheHostHeaderSays()
    {
        // The device shows the person where to enter the code: a forged Host, or a node's own address behind a proxy, was echoed there.
        var client = await DeviceClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/device")
        {
            Content = new FormUrlEncodedContent([new("client_id", client.ClientId), new("scope", "openid")]),
        };
        request.Headers.Host = "evil.example:8443";

        var started = DeviceAuthorization.From(await device.SendAsync(request));

        Assert.Equal("https://localhost/connect/verify", started.VerificationUri);
        Assert.StartsWith("https://localhost/connect/verify?user_code=", started.VerificationUriComplete);
    }

    [Fact]
    public async Task Polling_IsPendingUntilAllowed_TooFastIsSlowDown_ThenTokensOnce()
    {
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var tv = new ProtocolClient(host.HttpsClient());
        var started = await DeviceFlow.StartAsync(tv, client);

        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(tv, client, started.DeviceCode)));
        var tooSoon = await DeviceFlow.PollAsync(tv, client, started.DeviceCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooSoon.Status);
        Assert.Equal("slow_down", tooSoon.Error);
        // After slow_down the interval is 10 s (RFC 8628 §3.5): 6 s later is still too soon, 10 s is not.
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("slow_down", DeviceFlow.Error(await DeviceFlow.PollAsync(tv, client, started.DeviceCode)));
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(tv, client, started.DeviceCode)));

        var person = await CodeFlow.SignedInAsync(host, user);
        Assert.EndsWith("outcome=allowed", (await DeviceFlow.DecideAsync(person, started.UserCode, allow: true))!.ToString());
        // The answer, once there is one, is given at once: no interval applies to it.
        var tokens = await DeviceFlow.PollAsync(tv, client, started.DeviceCode);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal(user.Id, new JsonWebToken(tokens.AccessToken).Subject);
        Assert.NotNull(tokens.RefreshToken);
        Assert.NotNull(tokens.IdToken);
        Assert.Equal("openid offline_access", tokens.Scope);
        Assert.True(tokens.Response.Headers.CacheControl?.NoStore);
        var refreshed = await tv.RefreshAsync(client, tokens.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);

        // Used again, the device code is refused and, like a reused authorization code (RFC 6749 §4.1.2), ends what it issued.
        Assert.Equal("invalid_grant", DeviceFlow.Error(await DeviceFlow.PollAsync(tv, client, started.DeviceCode)));
        Assert.Equal("invalid_grant", (await tv.RefreshAsync(client, refreshed.RefreshToken!)).Error);
    }

    [Fact]
    public async Task AnotherClientPollingAPendingCode_IsInvalidGrant_AndDoesNotSlowTheDevice()
    {
        // RFC 6749 §5.2: "issued to another client"; its polls must not count against the device's interval either.
        var (client, other) = (await DeviceClientAsync(), await DeviceClientAsync(isPublic: false));
        var started = await DeviceFlow.StartAsync(device, client);

        var foreign = await DeviceFlow.PollAsync(device, other, started.DeviceCode);

        Assert.Equal(HttpStatusCode.BadRequest, foreign.Status);
        Assert.Equal("invalid_grant", foreign.Error);
        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(device, client, started.DeviceCode)));
    }

    [Fact]
    public async Task PollingAnotherNodeTooFast_IsSlowDownToo()
    {
        var client = await DeviceClientAsync();
        await using var nodeB = server.WithSettings(new Dictionary<string, string?>());
        var started = await DeviceFlow.StartAsync(device, client);

        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(device, client, started.DeviceCode)));
        Assert.Equal("slow_down", DeviceFlow.Error(await DeviceFlow.PollAsync(new ProtocolClient(nodeB.HttpsClient()), client, started.DeviceCode)));
    }

    [Fact]
    public async Task FirstPollsAtOnce_OnePending_TheOthersSlowDown_AndNoErrorIsLogged()
    {
        // The losers of the first poll's insert were EF Core Error lines with stack traces, which any device holding a
        // code could repeat at will (the concurrency audit counted 346).
        var client = await DeviceClientAsync();
        var log = new LogRecorder();
        await using var host = server.WithWebHostBuilder(log.For("polls"));
        var via = new ProtocolClient(host.HttpsClient());
        var started = await DeviceFlow.StartAsync(via, client);

        var polls = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => DeviceFlow.PollAsync(via, client, started.DeviceCode))));

        Assert.Single(polls, p => DeviceFlow.Error(p) == "authorization_pending");
        Assert.All(polls, p => Assert.Contains(DeviceFlow.Error(p), new[] { "authorization_pending", "slow_down" }));
        Assert.DoesNotContain(log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task AllowSubmittedTwiceAtOnce_OneConnects_TheOthersSayAlreadyUsed_NoServerError()
    {
        // A double click or two tabs: every submit found the code valid, and the losers of its redemption were 500s
        // (OpenIddict's rejected sign-in, "The OpenID Connect response was not correctly processed").
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(device, client);
        var person = await CodeFlow.SignedInAsync(server, user);
        var token = CodeFlow.Antiforgery(await DeviceFlow.OpenAsync(person, started.UserCode));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => person.PostAsync("/connect/verify",
            new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["user_code"] = started.UserCode, ["decision"] = "allow", ["__RequestVerificationToken"] = token,
            })))));

        Assert.All(answers, a => Assert.True((int)a.StatusCode < 500, $"{(int)a.StatusCode}"));
        Assert.Single(answers, a => a.Headers.Location?.ToString().EndsWith("outcome=allowed") == true);
        foreach (var refused in answers.Where(a => a.StatusCode == HttpStatusCode.OK))
            Assert.Contains("already used", await refused.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("reopen")]
    [InlineData("resubmit")]
    public async Task UserCodeUsedAgainAfterAllow_DoesNotCostTheDeviceItsTokens(string how)
    {
        // The person opens verification_uri_complete a second time (or submits twice) before the device polled: the used
        // user code was taken for a stolen one and its authorization revoked, device code included.
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(device, client);
        var person = await CodeFlow.SignedInAsync(server, user);
        var page = await DeviceFlow.OpenAsync(person, started.UserCode);
        Assert.EndsWith("outcome=allowed", (await DeviceFlow.DecideAsync(person, started.UserCode, allow: true))!.ToString());

        if (how == "reopen")
            Assert.Contains("already used", await OpenedMessageAsync(person, started.UserCode));
        else
            Assert.Contains("already used", await (await person.PostAsync("/connect/verify", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["user_code"] = started.UserCode, ["decision"] = "allow", ["__RequestVerificationToken"] = CodeFlow.Antiforgery(page),
            }))).Content.ReadAsStringAsync());

        var poll = await DeviceFlow.PollAsync(device, client, started.DeviceCode);
        Assert.True(poll.Status == HttpStatusCode.OK, DeviceFlow.Error(poll));
        Assert.Equal("invalid_grant", DeviceFlow.Error(await DeviceFlow.PollAsync(device, client, started.DeviceCode)));
    }

    [Fact]
    public async Task AllowAndDenySubmittedAtOnce_OneDecisionWins_AndTheDeviceGetsThatOne()
    {
        // Two tabs: Allow in one, Deny in the other. Both were answered as done ("connected" and "denied") while the
        // device got one of the two, so a person could be told "no access" about a device that had it.
        for (var round = 0; round < 3; round++)
        {
            var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
            var started = await DeviceFlow.StartAsync(device, client);
            var person = await CodeFlow.SignedInAsync(server, user);
            var token = CodeFlow.Antiforgery(await DeviceFlow.OpenAsync(person, started.UserCode));

            var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => person.PostAsync("/connect/verify",
                new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["user_code"] = started.UserCode, ["decision"] = i % 2 == 0 ? "allow" : "deny", ["__RequestVerificationToken"] = token,
                })))));

            var decided = Assert.Single(answers, a => a.Headers.Location is not null).Headers.Location!.ToString();
            var poll = await DeviceFlow.PollAsync(device, client, started.DeviceCode);
            if (decided.EndsWith("outcome=allowed")) Assert.Equal(HttpStatusCode.OK, poll.Status);
            else Assert.Equal("access_denied", poll.Error);
        }
    }

    [Fact]
    public async Task DeviceCodePolledAfterDenial_IsAccessDenied()
    {
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(device, client);
        var person = await CodeFlow.SignedInAsync(server, user);

        Assert.EndsWith("outcome=denied", (await DeviceFlow.DecideAsync(person, started.UserCode, allow: false))!.ToString());

        var poll = await DeviceFlow.PollAsync(device, client, started.DeviceCode);
        Assert.Equal(HttpStatusCode.BadRequest, poll.Status);
        Assert.Equal("access_denied", poll.Error);
        Assert.Contains("was denied", await OpenedMessageAsync(person, started.UserCode));
    }

    [Fact]
    public async Task PollRecords_ArePrunedOnceTheirCodeExpired()
    {
        var client = await DeviceClientAsync();
        var started = await DeviceFlow.StartAsync(device, client);
        await DeviceFlow.PollAsync(device, client, started.DeviceCode);
        var polls = () => data.DbAsync(db => db.DevicePolls.CountAsync(p => p.ExpiresAt < DateTimeOffset.UtcNow.AddMinutes(11)));
        var recorded = await polls();
        Assert.True(recorded >= 1);

        var time = new TestTimeProvider(DateTimeOffset.UtcNow.AddMinutes(11));
        await using var later = server.WithTime(time);
        await using (var scope = later.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<Identity.Server.Jobs.PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await polls());
    }

    [Fact]
    public async Task DeviceCodePolledAfterExpiry_IsExpiredToken()
    {
        var client = await DeviceClientAsync();
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var tv = new ProtocolClient(host.HttpsClient());
        var started = await DeviceFlow.StartAsync(tv, client);

        time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var poll = await DeviceFlow.PollAsync(tv, client, started.DeviceCode);

        Assert.Equal(HttpStatusCode.BadRequest, poll.Status);
        Assert.Equal("expired_token", poll.Error);
    }

    [Fact]
    public async Task VerificationPage_NamesTheClientScopesAndCode_AndAcceptsItTypedLoosely()
    {
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(device, client, scope: $"openid {TestData.ApiScope}");
        var person = await CodeFlow.SignedInAsync(server, user);

        var page = await DeviceFlow.OpenAsync(person, $" {started.UserCode.Replace("-", "").ToLowerInvariant()} ");

        Assert.Contains($"id=\"user-code\">{started.UserCode}<", page);
        Assert.Contains(client.ClientId, page);
        Assert.Contains("Know who you are", page);
        Assert.Contains($"Use the API &quot;{TestData.ApiScope}&quot; on your behalf", page);
    }

    [Fact]
    public async Task UnknownExpiredAndUsedCodes_EachGetAClearMessage()
    {
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var person = await CodeFlow.SignedInAsync(server, user);
        Assert.Contains("not one we know", await OpenedMessageAsync(person, "BCDF-GHJK"));

        var used = await DeviceFlow.StartAsync(device, client);
        await DeviceFlow.DecideAsync(person, used.UserCode, allow: true);
        Assert.Contains("already used", await OpenedMessageAsync(person, used.UserCode));

        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var expiring = await DeviceFlow.StartAsync(new ProtocolClient(host.HttpsClient()), client);
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Contains("expired", await OpenedMessageAsync(await CodeFlow.SignedInAsync(host, user), expiring.UserCode));
    }

    [Fact]
    public async Task WrongCodes_AreRateLimited_EvenTheRightOneAfterwards()
    {
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(device, client);
        var person = await CodeFlow.SignedInAsync(server, user);

        for (var i = 0; i < 10; i++) Assert.Contains("not one we know", await OpenedMessageAsync(person, "ZZZZ-ZZZZ"));

        Assert.Contains("Too many wrong codes", await OpenedMessageAsync(person, started.UserCode));
    }

    [Fact]
    public async Task VerificationPage_AsksToSignInFirst_AndComesBackWithTheCode()
    {
        var (client, user) = (await DeviceClientAsync(), await data.UserAsync());
        var started = await DeviceFlow.StartAsync(device, client);
        var browser = server.CreateClient(new() { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false, HandleCookies = true });

        var challenge = await browser.GetAsync(new Uri(started.VerificationUriComplete).PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        Assert.StartsWith("https://localhost/account/login", challenge.Headers.Location!.ToString());
        var returnUrl = QueryHelpers.ParseQuery(challenge.Headers.Location.Query)["ReturnUrl"].ToString();

        var back = await CodeFlow.LogInAsync(browser, user, returnUrl);
        Assert.Contains(started.UserCode, await browser.GetStringAsync(back));
    }

    [Theory]
    [InlineData("openid profile")]
    [InlineData("openid offline_access")]
    public async Task ScopeTheClientMayNotHave_IsInvalidScope(string scope)
    {
        var client = await DeviceClientAsync(scopes: ["openid"]);

        var response = await device.TokenAsync(client, ProtocolClient.Form(("scope", scope)), "/connect/device");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_scope", response.Error);
    }

    [Fact]
    public async Task ClientNotAllowedTheGrant_IsUnauthorizedClient()
    {
        var client = await data.ClientAsync(grants: ["password"], isPublic: true);

        var response = await device.TokenAsync(client, ProtocolClient.Form(("scope", "openid")), "/connect/device");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("unauthorized_client", response.Error);
    }

    /// <summary>The message the verification page shows for a code.</summary>
    private static async Task<string> OpenedMessageAsync(HttpClient person, string userCode)
    {
        var page = await DeviceFlow.OpenAsync(person, userCode);
        return MessageText().Match(page) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : page;
    }

    [GeneratedRegex("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")]
    private static partial Regex UserCodeShape();

    [GeneratedRegex("""id="message">\s*<p>(.*?)</p>""", RegexOptions.Singleline)]
    private static partial Regex MessageText();
}
