using System.Net;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;
using Identity.Server.Accounts;
using Identity.Server.Protocol.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Accounts;

[Collection(ServerCollection.Name)]
public sealed class ProfileTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task Get_ReturnsTheSignedInUsersProfile()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (response, json) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(user.UserId, json.GetProperty("id").GetString());
        Assert.True(json.GetProperty("emailConfirmed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("pendingEmail").ValueKind);
    }

    [Fact]
    public async Task NoToken_Is401WithBearerChallenge()
    {
        var (response, _) = await api.SendAsync(HttpMethod.Get, "/api/account/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        await Hosting.ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized); // the API's one shape, type and traceId included
    }

    [Fact]
    public async Task RevokedAccessToken_IsRefusedRightAway()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        await protocol.RevokeAsync(user.Client, user.Tokens.AccessToken!);

        var (response, json) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AReferenceAccessToken_OpensTheProfile()
    {
        // The API reads the opaque token's sealed payload from its row, with the keys the server seals with.
        var data = new TestData(server);
        var (client, user) = (await data.ClientAsync(format: "reference"), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user)).AccessToken!;
        Assert.Equal(0, token.Count(c => c == '.'));

        var (response, json) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(user.Id, json.GetProperty("id").GetString());
    }

    [Fact]
    public async Task ClientCredentialsToken_IsNotAUser()
    {
        // No API scope, so the token's aud is this server: it is refused for whom it stands for, not where it goes.
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"], scopes: []);
        var token = (await protocol.ClientCredentialsAsync(client)).AccessToken;
        var (response, _) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not issued to a person", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ATokenForAnotherApiOnly_IsRefused()
    {
        // Its aud names that API alone: any API receiving people's tokens could replay them here (RFC 9068 §4).
        var data = new TestData(server);
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var apiOnly = await protocol.PasswordGrantAsync(client, user, TestData.ApiScope);
        var both = await protocol.PasswordGrantAsync(client, user, $"openid {TestData.ApiScope}");

        var (refused, _) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { firstName = "Mallory" }, apiOnly.AccessToken);
        var (accepted, _) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: both.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("error=\"invalid_token\"", refused.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await using var scope = server.Services.CreateAsyncScope();
        Assert.Equal("Ada", (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(user.Id))!.FirstName);
    }

    [Fact]
    public async Task AThirdPartyAppsToken_MayNotManageTheAccount_AFirstPartyAppsMay()
    {
        // A consent to "openid profile" said nothing of changing the email, after which a reset link takes the account.
        const string redirectUri = "https://app.example.test/callback";
        var data = new TestData(server);
        var user = await data.UserAsync();
        var thirdParty = await data.ClientAsync(grants: ["authorization_code"], redirectUris: [redirectUri], requireConsent: true);
        var firstParty = await data.ClientAsync(grants: ["authorization_code"], redirectUris: [redirectUri], requireConsent: false);
        await using (var scope = server.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<Consents>().GrantAsync(user.Id, thirdParty.ClientId, ["openid", "profile"], CancellationToken.None);

        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { thirdParty, firstParty })
        {
            var (code, verifier) = await CodeFlow.IssueCodeAsync(server, client, user, redirectUri, scope: "openid profile");
            var tokens = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code),
                ("redirect_uri", redirectUri), ("code_verifier", verifier)));
            var (response, _) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = AccountApi.NewEmail() }, tokens.AccessToken);
            statuses.Add(response.StatusCode);
            if (client == thirdParty) Assert.Contains("error=\"insufficient_scope\"", response.Headers.WwwAuthenticate.ToString());
        }

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.OK], statuses);
    }

    [Fact]
    public async Task Put_UpdatesNames()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { firstName = "Ada", lastName = "Byron" }, user.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ada", json.GetProperty("firstName").GetString());
        Assert.Equal("Byron", json.GetProperty("lastName").GetString());
    }

    [Theory]
    [InlineData("\\u202Eevil")] // right-to-left override: reverses what follows, in relying parties' pages too
    [InlineData("Zw\\u200Bsp")]
    [InlineData("line\\u2028sep")]
    [InlineData("\\uFFFE")]
    [InlineData("\\uD800")]
    public async Task Put_ANameThatWouldChangeHowTextIsShown_Is400_AndChangesNothing(string escaped)
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (_, stored) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        var content = new StringContent($$"""{"firstName":"{{escaped}}"}""", System.Text.Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/account/profile") { Content = content };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.Tokens.AccessToken);

        var response = await server.CreateClient().SendAsync(request);
        var (_, storedNow) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("firstName", await response.Content.ReadAsStringAsync());
        Assert.Equal(stored.GetProperty("firstName").GetString(), storedNow.GetProperty("firstName").GetString());
    }

    [Fact]
    public async Task Put_ANameWithJoinedEmojiAndAJoiner_IsStored()
    {
        // Zero-width joiners are part of Persian and Indic names, and of every joined emoji.
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { firstName = "می\u200Cخواهم 👨‍👩‍👧" }, user.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("می\u200Cخواهم 👨‍👩‍👧", json.GetProperty("firstName").GetString());
    }

    [Fact]
    public async Task NewEmail_StaysPendingUntilItsLinkIsClicked()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var newEmail = AccountApi.NewEmail();

        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = newEmail }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(user.Email, json.GetProperty("email").GetString());
        Assert.Equal(newEmail, json.GetProperty("pendingEmail").GetString());
        var (_, pending) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal(user.Email, pending.GetProperty("email").GetString());
        Assert.Equal(newEmail, pending.GetProperty("pendingEmail").GetString());

        var link = await api.LinkAsync(newEmail, "/account/confirm-email");
        await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        var (_, after) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal(newEmail, after.GetProperty("email").GetString());
        Assert.True(after.GetProperty("emailConfirmed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("pendingEmail").ValueKind);
    }

    [Theory]
    [InlineData("the old email")]
    [InlineData("chosen")]
    [InlineData("someone else's user name")]
    public async Task ConfirmedNewEmail_BecomesTheUserName_OnlyWhereTheUserNameWasTheOldEmail(string userNameCase)
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var newEmail = AccountApi.NewEmail();
        var expected = userNameCase switch { "the old email" => newEmail, "chosen" => $"chosen-{Guid.NewGuid():N}", _ => user.Email };
        if (userNameCase == "chosen")
            await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = expected }, user.Tokens.AccessToken);
        if (userNameCase == "someone else's user name")
            await TakeUserNameAsync(newEmail); // as an account from before user names that are others' addresses were refused

        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = newEmail }, user.Tokens.AccessToken);
        var link = await api.LinkAsync(newEmail, "/account/confirm-email");
        var (confirmed, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var (_, profile) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal(newEmail, profile.GetProperty("email").GetString());
        Assert.True(profile.GetProperty("emailConfirmed").GetBoolean());
        Assert.Equal(expected, profile.GetProperty("userName").GetString());
        if (userNameCase == "the old email")
        {
            // The old address no longer signs in to this account, and its next owner may register it.
            var signIn = await new ProtocolClient(server.HttpsClient()).PasswordGrantAsync(user.Client, new TestUser(user.UserId, user.Email, user.Email, user.Password));
            Assert.Equal("invalid_grant", signIn.Error);
            Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(user.Email)).Response.StatusCode);
        }
    }

    [Fact]
    public async Task PendingEmail_IsTheLatestChange()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (first, second) = (AccountApi.NewEmail(), AccountApi.NewEmail());

        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = first }, user.Tokens.AccessToken);
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = second }, user.Tokens.AccessToken);
        var (_, latest) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);

        // The first change's link no longer works (a new link ends the previous one), so only the second is pending.
        Assert.Equal(second, latest.GetProperty("pendingEmail").GetString());
    }

    [Fact]
    public async Task TakenEmailOrUserName_Is409()
    {
        var (first, second) = (await AccountJourney.RegisterConfirmAndSignInAsync(server, api), await AccountJourney.RegisterConfirmAndSignInAsync(server, api));
        var userName = $"taken{Guid.NewGuid():N}"[..20];
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName }, first.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Conflict, (await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = first.Email }, second.Tokens.AccessToken)).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName }, second.Tokens.AccessToken)).Response.StatusCode);
    }

    [Fact]
    public async Task TakenEmail_WithANewUserName_Is409_AndRenamesNothing()
    {
        var (first, second) = (await AccountJourney.RegisterConfirmAndSignInAsync(server, api), await AccountJourney.RegisterConfirmAndSignInAsync(server, api));
        var userName = $"renamed{Guid.NewGuid():N}"[..20];

        var (response, _) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName, email = first.Email }, second.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var (_, profile) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: second.Tokens.AccessToken);
        Assert.Equal(second.Email, profile.GetProperty("userName").GetString());
    }

    [Theory]
    [InlineData("someone else's")]
    [InlineData("nobody's yet")]
    [InlineData("the pending one")]
    public async Task UserNameThatIsAnotherEmailAddress_Is400_AndChangesNothing(string whose)
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var address = whose == "someone else's" ? (await AccountJourney.RegisterConfirmAndSignInAsync(server, api)).Email : AccountApi.NewEmail();
        if (whose == "the pending one")
            await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = address }, user.Tokens.AccessToken);

        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = address, firstName = "Changed" }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("userName", Assert.Single(json.GetProperty("errors").EnumerateObject()).Name);
        var (_, profile) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal((user.Email, "Grace"), (profile.GetProperty("userName").GetString(), profile.GetProperty("firstName").GetString()));
    }

    [Fact]
    public async Task UserName_MayBecomeTheOwnEmailAddressAgain()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = $"chosen{Guid.NewGuid():N}"[..20] }, user.Tokens.AccessToken);

        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = user.Email.ToUpperInvariant() }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(user.Email.ToUpperInvariant(), json.GetProperty("userName").GetString());
    }

    [Fact]
    public async Task OwnUserName_InAnotherLetterCase_IsStored_AnotherAccountsIs409()
    {
        var (user, other) = (await AccountJourney.RegisterConfirmAndSignInAsync(server, api), await AccountJourney.RegisterConfirmAndSignInAsync(server, api));
        var chosen = $"Chosen.{Guid.NewGuid():N}"[..20];
        var othersName = $"Other.{Guid.NewGuid():N}"[..20];
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = othersName }, other.Tokens.AccessToken);

        // The user name is the address, as registration made it.
        var ownAddress = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = user.Email.ToUpperInvariant() }, user.Tokens.AccessToken);
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = chosen }, user.Tokens.AccessToken);
        var ownName = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = chosen.ToLowerInvariant() }, user.Tokens.AccessToken);
        var othersNameInCapitals = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName = othersName.ToUpperInvariant() }, user.Tokens.AccessToken);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Conflict),
            (ownAddress.Response.StatusCode, ownName.Response.StatusCode, othersNameInCapitals.Response.StatusCode));
        Assert.Equal(user.Email.ToUpperInvariant(), ownAddress.Json.GetProperty("userName").GetString());
        Assert.Equal(chosen.ToLowerInvariant(), ownName.Json.GetProperty("userName").GetString());
        var (_, profile) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal(chosen.ToLowerInvariant(), profile.GetProperty("userName").GetString());
    }

    [Fact]
    public async Task CurrentEmail_CancelsThePendingChange_AndItsLink()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var newEmail = AccountApi.NewEmail();
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = newEmail }, user.Tokens.AccessToken);
        var link = await api.LinkAsync(newEmail, "/account/confirm-email");

        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = user.Email.ToUpperInvariant() }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("pendingEmail").ValueKind);
        var (confirmed, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        Assert.Equal(HttpStatusCode.BadRequest, confirmed.StatusCode);
        var (_, profile) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", accessToken: user.Tokens.AccessToken);
        Assert.Equal((user.Email, true), (profile.GetProperty("email").GetString(), profile.GetProperty("emailConfirmed").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("pendingEmail").ValueKind);
    }

    [Theory]
    [InlineData("change")]
    [InlineData("reset")]
    public async Task ANewPassword_EndsAPendingEmailChange(string way)
    {
        // A thief with a stolen access token asks to move the account to their address; the owner notices and changes
        // or resets the password, which ends every session — and must end what a session asked for by mail too, else the
        // thief's link still moved the account to them, and forgot-password then gave them the account.
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var thiefs = AccountApi.NewEmail();
        await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = thiefs }, user.Tokens.AccessToken);
        var link = await api.LinkAsync(thiefs, "/account/confirm-email");

        if (way == "change")
        {
            var owners = await protocol.PasswordGrantAsync(user.Client, new TestUser(user.UserId, user.Email, user.Email, user.Password));
            var (changed, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = user.Password, newPassword = "the owner's new passphrase" },
                owners.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }
        else
        {
            await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
            var reset = await api.LinkAsync(user.Email, "/account/reset-password");
            var (done, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = reset.UserId, token = reset.Token, newPassword = "the owner's new passphrase" });
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }

        var (confirmed, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        Assert.Equal(HttpStatusCode.BadRequest, confirmed.StatusCode);
        var email = await new TestData(server).DbAsync(db => db.Users.Where(u => u.Id == user.UserId).Select(u => u.Email).SingleAsync());
        Assert.Equal(user.Email, email);
    }

    [Theory]
    [InlineData("password change")]
    [InlineData("new address confirmed")]
    public async Task AResetLinkStillOut_Ends(string when)
    {
        // ASP.NET Identity's own reset tokens die with the security stamp on both; ours are rows, ended explicitly. A
        // move to a new address is often because the old mailbox is no longer the owner's.
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
        var reset = await api.LinkAsync(user.Email, "/account/reset-password");

        if (when == "password change")
        {
            var (changed, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = user.Password, newPassword = "the owner's new passphrase" },
                user.Tokens.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }
        else
        {
            var newEmail = AccountApi.NewEmail();
            await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = newEmail }, user.Tokens.AccessToken);
            var confirm = await api.LinkAsync(newEmail, "/account/confirm-email");
            var (confirmed, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={confirm.UserId}&token={Uri.EscapeDataString(confirm.Token)}");
            Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        }

        var (used, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = reset.UserId, token = reset.Token, newPassword = "whoever reads the old mailbox" });
        Assert.Equal(HttpStatusCode.BadRequest, used.StatusCode);
    }

    [Fact]
    public async Task CurrentEmail_OfAnUnconfirmedAccount_KeepsItsConfirmationLink()
    {
        // Only a change is cancelled: the link confirming the registration address stays good.
        await using var host = server.WithSettings(new Dictionary<string, string?> { ["Accounts:RequireConfirmedEmail"] = "false" });
        var hostApi = new AccountApi(host.HttpsClient(), server.Mail);
        var email = AccountApi.NewEmail();
        await hostApi.RegisterAsync(email);
        var link = await hostApi.LinkAsync(email, "/account/confirm-email");
        var client = await new TestData(host).ClientAsync();
        var tokens = await new ProtocolClient(host.HttpsClient()).PasswordGrantAsync(client, new TestUser(link.UserId, email, email, TestData.DefaultPassword));

        var (response, _) = await hostApi.SendAsync(HttpMethod.Put, "/api/account/profile", new { email }, tokens.AccessToken);
        var (confirmed, _) = await hostApi.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
    }

    private Task TakeUserNameAsync(string userName) => new TestData(server).UsersAsync(async users =>
    {
        var now = DateTimeOffset.UtcNow;
        var created = await users.CreateAsync(new Identity.Server.Accounts.ApplicationUser
        {
            UserName = userName, Email = AccountApi.NewEmail(), EmailConfirmed = true, CreatedAt = now, UpdatedAt = now,
        }, TestData.DefaultPassword);
        Assert.True(created.Succeeded);
    });

    [Fact]
    public async Task OneUserNameClaimedByManyAtOnce_GoesToOne_AndTheOthersAre409()
    {
        var people = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => AccountJourney.RegisterConfirmAndSignInAsync(server, api)));
        for (var round = 0; round < 3; round++)
        {
            var userName = $"claimed{Guid.NewGuid():N}"[..24];

            var responses = await Task.WhenAll(people.Select(p => api.SendAsync(HttpMethod.Put, "/api/account/profile", new { userName }, p.Tokens.AccessToken)));

            Assert.Equal(1, responses.Count(r => r.Response.StatusCode == HttpStatusCode.OK));
            Assert.All(responses.Where(r => r.Response.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.Response.StatusCode));
        }
    }

    [Fact]
    public async Task OneNewEmailConfirmedByManyAtOnce_GoesToOne_AndTheOtherLinksAre400()
    {
        var people = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => AccountJourney.RegisterConfirmAndSignInAsync(server, api)));
        for (var round = 0; round < 3; round++)
        {
            // Pending addresses do not take an address, so each of them may ask for the same one and get a link.
            var email = AccountApi.NewEmail();
            foreach (var person in people)
                Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email }, person.Tokens.AccessToken)).Response.StatusCode);
            var links = await api.LinksAsync(email, "/account/confirm-email", people.Length);

            var responses = await Task.WhenAll(links.Select(link =>
                api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}")));

            Assert.Equal(1, responses.Count(r => r.Response.StatusCode == HttpStatusCode.OK));
            Assert.All(responses.Where(r => r.Response.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.BadRequest, r.Response.StatusCode));
            Assert.Equal(1, await new TestData(server).DbAsync(db => db.Users.CountAsync(u => u.NormalizedEmail == email.ToUpperInvariant())));
        }
    }

    [Fact]
    public async Task UndeliverableNewEmail_Is400OnTheEmailField_AndNothingIsPending()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);

        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { email = "two words@example.test" }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("email", Assert.Single(json.GetProperty("errors").EnumerateObject()).Name);
        var (_, profile) = await api.SendAsync(HttpMethod.Get, "/api/account/profile", null, user.Tokens.AccessToken);
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("pendingEmail").ValueKind);
    }

    [Fact]
    public async Task InvalidFields_Are400()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile", new { firstName = new string('a', 101), userName = "has spaces" }, user.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(2, json.GetProperty("errors").EnumerateObject().Count());
    }
}
