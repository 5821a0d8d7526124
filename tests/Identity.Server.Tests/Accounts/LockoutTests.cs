using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

/// <summary>
/// SPEC §3: lockout after 5 failures for 15 minutes, counted by the password grant, the login page and a password
/// change alike, however many of them arrive at once.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LockoutTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);
    private readonly ProtocolClient protocol = new(server.CreateClient());
    private readonly TestData data = new(server);

    [Fact]
    public async Task ConcurrentWrongPasswords_EachCount()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        // Below the threshold, so that the count itself shows: each of them read the user before any of them wrote.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => protocol.PasswordGrantAsync(client, user with { Password = $"wrong {i}" })));

        Assert.Equal((4, (DateTimeOffset?)null), await StateAsync(user.Id));
    }

    [Fact]
    public async Task ManyConcurrentWrongPasswords_LockTheAccount()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        // The per-user-name rate limit lets 10 a minute through for each spelling of the login.
        var logins = new[] { user.UserName, user.Email };
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            protocol.PasswordGrantAsync(client, user with { UserName = logins[i % 2], Password = $"wrong {i}" })));

        Assert.All(answers, a => Assert.Equal("invalid_grant", a.Error));
        var (_, lockoutEnd) = await StateAsync(user.Id);
        Assert.True(lockoutEnd > DateTimeOffset.UtcNow.AddMinutes(14), $"locked until {lockoutEnd}");
        var rightPassword = await new ProtocolClient(server.CreateClient()).PasswordGrantAsync(client, user);
        Assert.Equal("invalid_grant", rightPassword.Error);
        Assert.Contains("locked", rightPassword.ErrorDescription, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task FailuresDuringTheLockout_AreNotCounted_AndDoNotExtendIt()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        for (var i = 0; i < 5; i++) await protocol.PasswordGrantAsync(client, user with { Password = $"wrong {i}" });
        var locked = await StateAsync(user.Id);

        await protocol.PasswordGrantAsync(client, user with { Password = "wrong again" });

        Assert.Equal(0, locked.Count);
        Assert.NotNull(locked.LockoutEnd);
        Assert.Equal(locked, await StateAsync(user.Id));
    }

    [Fact]
    public async Task RightPassword_ResetsTheCount()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        for (var i = 0; i < 4; i++) await protocol.PasswordGrantAsync(client, user with { Password = $"wrong {i}" });

        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);
        Assert.Equal((0, (DateTimeOffset?)null), await StateAsync(user.Id));
        await protocol.PasswordGrantAsync(client, user with { Password = "wrong once more" });
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);
    }

    [Fact]
    public async Task WrongCurrentPasswords_OfAPasswordChange_LockTheAccount()
    {
        // A stolen access token must not be an unlimited oracle for the password.
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var login = new TestUser(user.UserId, user.Email, user.Email, user.Password);
        var before = await PrometheusScrape.GetAsync(server.CreateClient());
        for (var i = 0; i < 5; i++)
        {
            var (wrong, wrongJson) = await ChangeAsync(user, $"wrong {i}");
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.True(wrongJson.GetProperty("errors").TryGetProperty("currentPassword", out _), wrongJson.GetRawText());
        }

        var (right, json) = await ChangeAsync(user, user.Password);

        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Contains("locked", json.GetProperty("errors").GetProperty("currentPassword")[0].GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before.Value("identity_signin_lockouts_total", ("channel", "password_change")) + 1,
            (await PrometheusScrape.GetAsync(server.CreateClient())).Value("identity_signin_lockouts_total", ("channel", "password_change")));
        Assert.Contains("locked", (await protocol.PasswordGrantAsync(user.Client, login)).ErrorDescription, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("invalid_grant", (await protocol.PasswordGrantAsync(user.Client, login with { Password = "an entirely new passphrase" })).Error);
    }

    [Fact]
    public async Task ConcurrentWrongCurrentPasswords_LockTheAccount()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => ChangeAsync(user, $"wrong {i}")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.BadRequest, a.Response.StatusCode));
        Assert.NotNull((await StateAsync(user.UserId)).LockoutEnd);
        var (right, _) = await ChangeAsync(user, user.Password);
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
    }

    [Fact]
    public async Task PasswordChangeAndPasswordGrant_CountTowardsOneLockout()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var login = new TestUser(user.UserId, user.Email, user.Email, user.Password);
        for (var i = 0; i < 3; i++) await protocol.PasswordGrantAsync(user.Client, login with { Password = $"wrong {i}" });
        for (var i = 0; i < 2; i++) await ChangeAsync(user, $"wrong change {i}");

        Assert.Contains("locked", (await protocol.PasswordGrantAsync(user.Client, login)).ErrorDescription, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RightCurrentPassword_ResetsTheCount()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        for (var i = 0; i < 4; i++) await ChangeAsync(user, $"wrong {i}");

        var (changed, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password",
            new { currentPassword = user.Password, newPassword = "an entirely new passphrase" }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        Assert.Equal((0, (DateTimeOffset?)null), await StateAsync(user.UserId));
    }

    private Task<(HttpResponseMessage Response, System.Text.Json.JsonElement Json)> ChangeAsync(SignedInUser user, string current) =>
        api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = current, newPassword = "an entirely new passphrase" }, user.Tokens.AccessToken);

    private async Task<(int Count, DateTimeOffset? LockoutEnd)> StateAsync(string userId)
    {
        var row = await data.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.AccessFailedCount, u.LockoutEnd }).SingleAsync());
        return (row.AccessFailedCount, row.LockoutEnd);
    }
}
