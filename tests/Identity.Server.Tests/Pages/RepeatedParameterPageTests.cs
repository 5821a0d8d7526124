using System.Net;
using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Pages;

/// <summary>
/// SPEC §6: a repeated parameter is a 400 in the family's format, here an HTML page, and changes nothing. Model binding
/// took the first of a repeated form field or query parameter, so two NewPassword values changed the password.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RepeatedParameterPageTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);

    [Fact]
    public async Task ResetPassword_WithTwoNewPasswords_Is400_AndTheLinkAndPasswordStand()
    {
        var user = await data.UserAsync();
        await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
        var link = await api.LinkAsync(user.Email, "/account/reset-password");
        var browser = server.HttpsClient();
        const string chosen = "a brand new passphrase";

        var refused = await PostAsync(browser, link.Uri.PathAndQuery, "/account/reset-password",
            ("UserId", link.UserId), ("Token", link.Token), ("NewPassword", chosen), ("NewPassword", "another new passphrase"), ("ConfirmPassword", chosen));

        await AssertRefusedAsync(refused, "NewPassword");
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True(await users.CheckPasswordAsync((await users.FindByIdAsync(user.Id))!, user.Password));
        }
        // The link was not used up.
        var sent = await PostAsync(browser, link.Uri.PathAndQuery, "/account/reset-password",
            ("UserId", link.UserId), ("Token", link.Token), ("NewPassword", chosen), ("ConfirmPassword", chosen));
        Assert.Contains("password is changed", await sent.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Register_WithTwoAddresses_Is400_AndCreatesNeitherAccount()
    {
        var (first, second) = (AccountApi.NewEmail(), AccountApi.NewEmail());

        var refused = await PostAsync(server.HttpsClient(), "/account/register", "/account/register",
            ("Email", first), ("Email", second), ("Password", TestData.DefaultPassword));

        await AssertRefusedAsync(refused, "Email");
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.Null(await users.FindByEmailAsync(first));
        Assert.Null(await users.FindByEmailAsync(second));
    }

    [Theory]
    [InlineData("UserName")]
    [InlineData("ReturnUrl")]
    public async Task Login_WithARepeatedField_Is400_AndSignsNobodyIn(string repeated)
    {
        var user = await data.UserAsync();
        List<(string, string)> fields = [("UserName", user.UserName), ("Password", user.Password), ("ReturnUrl", "/account/logout")];
        fields.Add(repeated == "UserName" ? ("UserName", "somebody-else") : ("ReturnUrl", "/account/register"));

        var refused = await PostAsync(server.HttpsClient(), "/account/login", "/account/login", [.. fields]);

        await AssertRefusedAsync(refused, repeated);
        Assert.False(refused.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.Contains("identity", StringComparison.OrdinalIgnoreCase)),
            "No session cookie is issued.");
    }

    public static TheoryData<string, string, (string, string)[]> OtherForms => new()
    {
        // page to load, where its form posts, the fields
        { "/account/forgot-password", "/account/forgot-password", [("Email", "a@example.test"), ("Email", "b@example.test")] },
        { "/account/confirm-email", "/account/confirm-email?handler=Resend", [("Email", "a@example.test"), ("Email", "b@example.test")] },
        { "/account/confirm-email", "/account/confirm-email?handler=Resend&handler=Resend", [("Email", "a@example.test")] },
        { "/account/logout", "/account/logout", [("ReturnUrl", "/account/login"), ("ReturnUrl", "/account/register")] },
    };

    [Theory]
    [MemberData(nameof(OtherForms))]
    public async Task EveryOtherForm_WithARepeatedField_Is400(string page, string action, (string, string)[] fields)
    {
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());
        var refused = await PostAsync(browser, page, action, fields);
        await AssertRefusedAsync(refused, fields.GroupBy(f => f.Item1).SingleOrDefault(g => g.Count() > 1)?.Key ?? "handler");
    }

    [Theory]
    [InlineData("user_code")]
    [InlineData("decision")]
    public async Task Verify_WithARepeatedField_Is400_AndTheDeviceWaitsOn(string repeated)
    {
        var client = await data.ClientAsync(grants: [DeviceFlow.GrantType], isPublic: true, scopes: ["openid"]);
        var device = new ProtocolClient(server.CreateClient());
        var started = await DeviceFlow.StartAsync(device, client, scope: "openid");
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());
        List<(string, string)> fields = [("user_code", started.UserCode), ("decision", "allow")];
        fields.Add(repeated == "decision" ? ("decision", "deny") : ("user_code", "WXYZ-WXYZ"));

        var refused = await PostAsync(browser, $"/connect/verify?user_code={started.UserCode}", "/connect/verify", [.. fields]);

        await AssertRefusedAsync(refused, repeated);
        Assert.Equal("authorization_pending", DeviceFlow.Error(await DeviceFlow.PollAsync(device, client, started.DeviceCode)));
    }

    [Theory]
    [InlineData("/account/login?returnUrl=/account/logout&returnUrl=/account/register", "ReturnUrl")]
    [InlineData("/account/logout?returnUrl=/account/login&ReturnUrl=/account/register", "ReturnUrl")]
    [InlineData("/connect/verify?user_code=ABCD-EFGH&user_code=WXYZ-WXYZ", "user_code")]
    [InlineData("/connect/consent?returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Da&returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Db", "ReturnUrl")]
    public async Task APageOpenedWithARepeatedParameter_Is400(string url, string repeated)
    {
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());
        await AssertRefusedAsync(await browser.GetAsync(url), repeated);
    }

    [Fact]
    public async Task ConfirmEmailPage_WithARepeatedUserId_Is400_AndConfirmsNothing()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");

        var refused = await server.HttpsClient().GetAsync($"{link.Uri.PathAndQuery}&userId={Guid.NewGuid()}");

        await AssertRefusedAsync(refused, "userId");
        await using var scope = server.Services.CreateAsyncScope();
        Assert.False((await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(link.UserId))!.EmailConfirmed);
    }

    [Fact]
    public async Task ARepeatedParameterNoPageReads_ChangesNothing()
    {
        // RFC 6749 §3.1's rule for the protocol, here too: a link's repeated utm_source is not the page's business.
        var response = await server.HttpsClient().GetAsync("/account/login?utm_source=a&utm_source=b");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string page, string action, params (string Name, string Value)[] fields)
    {
        var antiforgery = CodeFlow.Antiforgery(await browser.GetStringAsync(page));
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("__RequestVerificationToken", antiforgery));
        return await browser.PostAsync(action, new FormUrlEncodedContent(form));
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string name)
    {
        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"The request gives &#x27;{name}&#x27; more than once, so nothing was done.", page);
    }
}
