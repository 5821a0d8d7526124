using System.Net;
using System.Text.RegularExpressions;
using Identity.Server.Jobs;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// What an operator scrapes from <c>/metrics</c> (the fixture serves it, as <c>Telemetry:Prometheus:Enabled=true</c>
/// would): each event moves its own counter, under the names docs/operations.md and the dashboard use. Counters are
/// compared before and after, since the fixture's host serves every test.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class MetricsTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task SignInRefreshAndRefusal_EachMoveTheirCounters()
    {
        var (client, api, user) = (await data.ClientAsync(), await data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true), await data.UserAsync());
        var before = await PrometheusScrape.GetAsync(server.CreateClient());

        var signedIn = await protocol.PasswordGrantAsync(client, user);
        var refreshed = await protocol.RefreshAsync(client, signedIn.RefreshToken!);
        var refused = await protocol.PasswordGrantAsync(client, user with { Password = "not the password" });
        Assert.True((await protocol.IntrospectAsync(api, refreshed.AccessToken!)).Json.GetProperty("active").GetBoolean());
        await protocol.RevokeAsync(client, refreshed.RefreshToken!);
        Assert.False((await protocol.IntrospectAsync(api, refreshed.AccessToken!)).Json.GetProperty("active").GetBoolean());

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest], [signedIn.Status, refreshed.Status, refused.Status]);
        var after = await PrometheusScrape.GetAsync(server.CreateClient());
        // Tagged with this test's own client: exact.
        Assert.Equal(1, after.Value("identity_tokens_issued_total", ("grant_type", "password"), ("client_id", client.ClientId)));
        Assert.Equal(1, after.Value("identity_tokens_issued_total", ("grant_type", "refresh_token"), ("client_id", client.ClientId)));
        // Shared series: at least this test's events.
        AssertMoved(before, after, "identity_requests_refused_total", ("error", "invalid_grant"));
        AssertMoved(before, after, "identity_signin_failures_total", ("channel", "password_grant"), ("reason", "invalid_credentials"));
        AssertMoved(before, after, "identity_tokens_revoked_total", ("token_type", "refresh_token"));
        AssertMoved(before, after, "identity_authorizations_revoked_total", ("reason", "revocation"));
        AssertMoved(before, after, "identity_introspections_total", ("active", "true"));
        AssertMoved(before, after, "identity_introspections_total", ("active", "false"));
        AssertMoved(before, after, "http_server_request_duration_seconds_count", ("http_route", "/connect/token"), ("http_response_status_code", "400"));
        AssertMoved(before, after, "http_server_request_duration_seconds_count", ("http_route", "/connect/token"), ("http_response_status_code", "200"));
        // OpenIddict answers these without a route of ASP.NET Core's; they are named all the same, for the dashboard.
        AssertMoved(before, after, "http_server_request_duration_seconds_count", ("http_route", "/connect/introspect"), ("http_response_status_code", "200"));
        AssertMoved(before, after, "http_server_request_duration_seconds_count", ("http_route", "/connect/revoke"), ("http_response_status_code", "200"));
    }

    [Fact]
    public async Task PushedAndDeviceAuthorizationRefusals_AreCounted()
    {
        var pushing = await data.ClientAsync(grants: ["authorization_code"], scopes: ["openid"], redirectUris: ["https://app.example.test/callback"]);
        var tv = await data.ClientAsync(grants: [DeviceFlow.GrantType], isPublic: true, scopes: ["openid"]);
        var before = await PrometheusScrape.GetAsync(server.CreateClient());

        var pushed = await protocol.TokenAsync(pushing, ProtocolClient.Form(("response_type", "code"), ("redirect_uri", "https://app.example.test/callback"),
            ("scope", "openid profile")), "/connect/par");
        var started = await protocol.TokenAsync(tv, ProtocolClient.Form(("scope", "openid profile")), "/connect/device");

        Assert.Equal("invalid_scope", pushed.Error);
        Assert.Equal("invalid_scope", started.Error);
        var after = await PrometheusScrape.GetAsync(server.CreateClient());
        // The fixture's tests run one at a time: these two are the only refusals in between.
        Assert.Equal(before.Value("identity_requests_refused_total", ("error", "invalid_scope")) + 2,
            after.Value("identity_requests_refused_total", ("error", "invalid_scope")));
        AssertMoved(before, after, "http_server_request_duration_seconds_count", ("http_route", "/connect/par"), ("http_response_status_code", "400"));
        AssertMoved(before, after, "http_server_request_duration_seconds_count", ("http_route", "/connect/device"), ("http_response_status_code", "400"));
    }

    [Fact]
    public async Task RepeatedWrongPasswords_CountTheLockout()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var before = await PrometheusScrape.GetAsync(server.CreateClient());

        for (var i = 0; i < 5; i++) await protocol.PasswordGrantAsync(client, user with { Password = "not the password" });

        var after = await PrometheusScrape.GetAsync(server.CreateClient());
        AssertMoved(before, after, "identity_signin_lockouts_total", ("channel", "password_grant"));
        Assert.Contains("locked out", (await protocol.PasswordGrantAsync(client, user)).ErrorDescription);
        AssertMoved(after, await PrometheusScrape.GetAsync(server.CreateClient()), "identity_signin_failures_total",
            ("channel", "password_grant"), ("reason", "locked_out"));
    }

    [Fact]
    public async Task WrongPasswordOnTheLoginPage_IsCountedAsThePagesFailure()
    {
        var user = await data.UserAsync();
        var browser = server.CreateClient(); // keeps the anti-forgery cookie
        var before = await PrometheusScrape.GetAsync(server.CreateClient());

        var page = await (await browser.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var antiforgery = AntiforgeryField().Match(page).Groups["value"].Value;
        var answer = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user.UserName, ["Password"] = "not the password", ["__RequestVerificationToken"] = antiforgery,
        }));

        Assert.Contains("is wrong", await answer.Content.ReadAsStringAsync());
        AssertMoved(before, await PrometheusScrape.GetAsync(server.CreateClient()), "identity_signin_failures_total",
            ("channel", "login_page"), ("reason", "invalid_credentials"));
    }

    [Fact]
    public async Task RefreshTokenReuse_IsCountedWithTheRevokedAuthorization()
    {
        // No leeway: the second use of a redeemed token is reuse at once.
        await using var host = server.WithSettings(new Dictionary<string, string?> { ["Identity:Tokens:RefreshTokenReuseLeeway"] = "00:00:00" });
        var protocol = new ProtocolClient(host.HttpsClient());
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        await protocol.RefreshAsync(client, first.RefreshToken!);
        var before = await PrometheusScrape.GetAsync(host.HttpsClient());

        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);

        var after = await PrometheusScrape.GetAsync(host.HttpsClient());
        AssertMoved(before, after, "identity_refresh_tokens_reused_total");
        AssertMoved(before, after, "identity_authorizations_revoked_total", ("reason", "refresh_token_reuse"));
    }

    [Fact]
    public async Task PruneRun_IsCounted()
    {
        var before = await PrometheusScrape.GetAsync(server.CreateClient());

        await using (var scope = server.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);

        var after = await PrometheusScrape.GetAsync(server.CreateClient());
        AssertMoved(before, after, "identity_prune_duration_seconds_count");
        Assert.Contains("identity_prune_rows_deleted_total", after.Names);
    }

    [Fact]
    public async Task PrometheusEndpoint_IsOffByDefault()
    {
        await using var plain = ConfiguredServer.OnPostgres(server.ConnectionString);
        var http = plain.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
    }

    private static void AssertMoved(PrometheusScrape before, PrometheusScrape after, string name, params (string, string)[] labels)
    {
        var (was, now) = (before.Value(name, labels), after.Value(name, labels));
        Assert.True(now > was, $"{name}{{{string.Join(",", labels.Select(l => $"{l.Item1}=\"{l.Item2}\""))}}} did not move: {was} -> {now}");
    }

    [GeneratedRegex("""name="__RequestVerificationToken" type="hidden" value="(?<value>[^"]+)"|type="hidden" name="__RequestVerificationToken" value="(?<value>[^"]+)""")]
    private static partial Regex AntiforgeryField();
}
