using System.Net;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

/// <summary>
/// SPEC §3: a 400 lists the fields at fault, all of them at once: the attributes' (email, lengths, names), the
/// password rules and the handler's own checks. Each stage used to answer alone, so a weak password was reported only
/// once the email was fixed (audit a14 F5). Nothing is created or changed by a request refused for any field.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EveryFieldAtFaultTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);
    private readonly TestData data = new(server);

    [Fact]
    public async Task Register_WithAnInvalidEmailAndAShortPassword_ListsBoth_AndCreatesNothing()
    {
        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/register", new { email = "not-an-email", password = "short" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["email", "password"], Fields(json));
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == "not-an-email")));
    }

    [Fact]
    public async Task Register_WithEveryStageAtFault_ListsEveryField_AndCreatesNothing()
    {
        var email = AccountApi.NewEmail();

        // firstName: attribute; role: self-service list; userName: another address; password: too short and common.
        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/register",
            new { email, password = "123456", firstName = "Grace\u202E", userName = "someone-else@example.test", role = "admin" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["firstName", "password", "role", "userName"], Fields(json));
        Assert.Equal(2, json.GetProperty("errors").GetProperty("password").GetArrayLength());
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Fact]
    public async Task Register_WithAValidBodyButARefusedRoleAndAWeakPassword_ListsBoth()
    {
        var email = AccountApi.NewEmail();

        var (response, json) = await api.RegisterAsync(email, "short", role: "admin");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["password", "role"], Fields(json));
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Fact]
    public async Task ChangePassword_WithTheWrongCurrentPasswordAndAWeakNewOne_ListsBoth_AndChangesNothing()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var before = await data.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));

        var (wrong, wrongJson) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = "wrong", newPassword = "short" }, user.Tokens.AccessToken);
        var (missing, missingJson) = await api.SendAsync(HttpMethod.Post, "/api/account/password", new { currentPassword = "", newPassword = "short" }, user.Tokens.AccessToken);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (wrong.StatusCode, missing.StatusCode));
        Assert.Equal(["currentPassword", "newPassword"], Fields(wrongJson));
        Assert.Equal(["currentPassword", "newPassword"], Fields(missingJson));
        var after = await data.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));
        Assert.Equal(before.PasswordHash, after.PasswordHash);
    }

    [Fact]
    public async Task Reset_WithABadLinkAndAWeakPassword_ListsBoth()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);

        var (badToken, badTokenJson) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = user.UserId, token = "not-the-token", newPassword = "short" });
        var (noToken, noTokenJson) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = user.UserId, newPassword = "short" });

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (badToken.StatusCode, noToken.StatusCode));
        Assert.Equal(["newPassword", "token"], Fields(badTokenJson));
        Assert.Equal(["newPassword", "token"], Fields(noTokenJson));
    }

    [Fact]
    public async Task UpdateProfile_WithAnInvalidNameAndAnotherAddressAsUserName_ListsBoth_AndChangesNothing()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);

        var (response, json) = await api.SendAsync(HttpMethod.Put, "/api/account/profile",
            new { firstName = "Ada\u0000", userName = "someone-else@example.test" }, user.Tokens.AccessToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["firstName", "userName"], Fields(json));
        var after = await data.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));
        Assert.Equal((user.Email, "Grace"), (after.UserName, after.FirstName));
    }

    private static string[] Fields(JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
}
