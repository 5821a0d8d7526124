using System.Net;
using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Accounts;

[Collection(ServerCollection.Name)]
public sealed class PasswordTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);
    private readonly ProtocolClient protocol = new(server.CreateClient());
    private const string NewPassword = "an entirely new passphrase";

    [Fact]
    public async Task Change_Needs204_AndEndsOtherSessionsOnly()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var login = new TestUser(user.UserId, user.Email, user.Email, user.Password);
        var otherSession = await protocol.PasswordGrantAsync(user.Client, login);

        var (response, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = user.Password, newPassword = NewPassword }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(user.Client, otherSession.RefreshToken!)).Error);
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(user.Client, user.Tokens.RefreshToken!)).Status);
        Assert.Equal("invalid_grant", (await protocol.PasswordGrantAsync(user.Client, login)).Error);
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(user.Client, login with { Password = NewPassword })).Status);
    }

    [Fact]
    public async Task Change_WithTheWrongCurrentPassword_Is400()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = "wrong", newPassword = NewPassword }, user.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(json.GetProperty("errors").TryGetProperty("currentPassword", out _));
    }

    [Fact]
    public async Task Change_ToACommonPassword_Is400()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = user.Password, newPassword = "iloveyou" }, user.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(json.GetProperty("errors").TryGetProperty("newPassword", out _));
    }

    [Fact]
    public async Task ForgotAndReset_SetTheNewPassword_AndEndEverySession()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var login = new TestUser(user.UserId, user.Email, user.Email, user.Password);

        Assert.Equal(HttpStatusCode.Accepted, (await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email })).Response.StatusCode);
        var link = await api.LinkAsync(user.Email, "/account/reset-password");
        var (reset, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = NewPassword });

        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(user.Client, user.Tokens.RefreshToken!)).Error);
        Assert.Equal("invalid_grant", (await protocol.PasswordGrantAsync(user.Client, login)).Error);
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(user.Client, login with { Password = NewPassword })).Status);
        var (again, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = "yet another passphrase" });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task Reset_WithAWeakPassword_Is400_AndKeepsTheLinkUsable()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
        var link = await api.LinkAsync(user.Email, "/account/reset-password");

        var (weak, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = "123456789" });
        var (strong, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = NewPassword });

        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, strong.StatusCode);
    }

    [Theory]
    [InlineData("reset")]
    [InlineData("change")]
    public async Task NewPassword_IsStored_ThoughAWrongPasswordWasCountedWhileItWasHashed(string way)
    {
        // A host of its own, so that its hashing threads can be held busy: the request reads the user, then waits there
        // for its hash while a wrong password is counted, as a guess sent beside it would be. The count renews the user's
        // concurrency stamp; a reset used to write back the user as read, lose on the stamp, and answer 204 all the same,
        // with its link used up and the password unchanged.
        await using var host = server.WithSettings(new Dictionary<string, string?>());
        var hostApi = new AccountApi(host.HttpsClient(), server.Mail);
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(host, hostApi);
        var login = new TestUser(user.UserId, user.Email, user.Email, user.Password);
        EmailLink? link = null;
        if (way == "reset")
        {
            await hostApi.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
            link = await hostApi.LinkAsync(user.Email, "/account/reset-password");
        }

        var queue = host.Services.GetRequiredService<PasswordHashingQueue>();
        using var release = new ManualResetEventSlim();
        var occupying = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => queue.RunAsync(() => release.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None)).ToList();
        var request = link is { } l
            ? hostApi.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = l.UserId, token = l.Token, newPassword = NewPassword })
            : hostApi.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = user.Password, newPassword = NewPassword }, user.Tokens.AccessToken);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using (var scope = host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<LockoutCounter>().CountFailureAsync(user.UserId);
        release.Set();
        await Task.WhenAll(occupying);

        Assert.Equal(HttpStatusCode.NoContent, (await request).Response.StatusCode);
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        Assert.Equal(HttpStatusCode.OK, (await hostProtocol.PasswordGrantAsync(user.Client, login with { Password = NewPassword })).Status);
        Assert.Equal("invalid_grant", (await hostProtocol.PasswordGrantAsync(user.Client, login)).Error);
    }

    [Fact]
    public async Task Change_AfterThePasswordChangedMeanwhile_Is400_AndLeavesTheOtherPassword()
    {
        // Two changes at once, or a change racing the owner's reset, each verified against the old password: the later
        // write used to win and both answered 204, so an attacker who knew the old password could undo the reset. The
        // change holds in the hashing queue after reading the user while the password is reset underneath it.
        await using var host = server.WithSettings(new Dictionary<string, string?>());
        var hostApi = new AccountApi(host.HttpsClient(), server.Mail);
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(host, hostApi);
        const string ResetPassword = "the owner's reset passphrase";

        var queue = host.Services.GetRequiredService<PasswordHashingQueue>();
        using var release = new ManualResetEventSlim();
        var occupying = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => queue.RunAsync(() => release.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None)).ToList();
        var change = hostApi.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = user.Password, newPassword = NewPassword }, user.Tokens.AccessToken);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(user.UserId);
            var hash = scope.ServiceProvider.GetRequiredService<IPasswordHasher<ApplicationUser>>().HashPassword(stored!, ResetPassword);
            Assert.True(await scope.ServiceProvider.GetRequiredService<NewPasswords>().StoreAsync(user.UserId, hash, reset: true));
        }
        release.Set();
        await Task.WhenAll(occupying);

        var (response, json) = await change;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(json.GetProperty("errors").TryGetProperty("currentPassword", out _), json.ToString());
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var login = new TestUser(user.UserId, user.Email, user.Email, ResetPassword);
        Assert.Equal(HttpStatusCode.OK, (await hostProtocol.PasswordGrantAsync(user.Client, login)).Status);
        Assert.Equal("invalid_grant", (await hostProtocol.PasswordGrantAsync(user.Client, login with { Password = NewPassword })).Error);
    }

    [Fact]
    public async Task ASignInWithTheOldPassword_DuringAReset_KeepsNoTokens()
    {
        // The password grant verified the old password, the reset stored the new one and ended the sessions it found,
        // then the grant opened its own and handed out tokens that outlived the reset (the concurrency audit: 40 of 50
        // rounds). The sign-in holds in the hashing queue while the whole reset happens underneath it.
        await using var host = server.WithSettings(new Dictionary<string, string?>());
        var hostApi = new AccountApi(host.HttpsClient(), server.Mail);
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(host, hostApi);
        var hostProtocol = new ProtocolClient(host.HttpsClient());

        var queue = host.Services.GetRequiredService<PasswordHashingQueue>();
        using var release = new ManualResetEventSlim();
        var occupying = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => queue.RunAsync(() => release.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None)).ToList();
        var signIn = hostProtocol.PasswordGrantAsync(user.Client, new TestUser(user.UserId, user.Email, user.Email, user.Password));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(user.UserId);
            var hash = scope.ServiceProvider.GetRequiredService<IPasswordHasher<ApplicationUser>>().HashPassword(stored!, NewPassword);
            Assert.True(await scope.ServiceProvider.GetRequiredService<NewPasswords>().StoreAsync(user.UserId, hash, reset: true));
            await scope.ServiceProvider.GetRequiredService<Identity.Server.Protocol.Authorization.Sessions>().EndAllAsync(user.UserId, except: null, CancellationToken.None);
        }
        release.Set();
        await Task.WhenAll(occupying);

        var tokens = await signIn;
        if (tokens.Status == HttpStatusCode.OK)
        {
            Assert.Equal("invalid_grant", (await hostProtocol.RefreshAsync(user.Client, tokens.RefreshToken!)).Error);
            Assert.Equal(HttpStatusCode.Unauthorized, (await hostProtocol.UserInfoAsync(tokens.AccessToken!)).Status);
        }
        else
            Assert.Equal("invalid_grant", tokens.Error);
    }

    [Fact]
    public async Task ExpiredResetLink_Is400()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostApi = new AccountApi(host.HttpsClient(), server.Mail);
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(host, hostApi);
        await hostApi.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
        var link = await hostApi.LinkAsync(user.Email, "/account/reset-password");

        // The link's hour starts when the dispatch job writes it, on the sending node's clock: well within a minute of
        // this host's start, since the link has arrived.
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));

        var (response, _) = await hostApi.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = NewPassword });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Forgot_ForAnUnknownAddress_Is202AndSendsNothing()
    {
        var email = AccountApi.NewEmail();
        Assert.Equal(HttpStatusCode.Accepted, (await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email })).Response.StatusCode);
        await Task.Delay(1000);
        Assert.Equal(0, await api.CountMessagesAsync(email));
    }
}
