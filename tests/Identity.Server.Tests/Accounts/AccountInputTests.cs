using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Identity.Server.Tests.Hosting;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

/// <summary>
/// SPEC §3, §6: the account API tried as a newcomer would, with wrong input. Every error is problem details, and a
/// refused request creates and changes nothing.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AccountInputTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);
    private readonly TestData data = new(server);

    public static TheoryData<string, string> JsonEndpoints => new()
    {
        { "POST", "/api/account/register" },
        { "POST", "/api/account/confirm-email/resend" },
        { "POST", "/api/account/password" },
        { "POST", "/api/account/password/forgot" },
        { "POST", "/api/account/password/reset" },
        { "PUT", "/api/account/profile" },
    };

    public static TheoryData<string> NotJson => ["form", "text/plain", "no content type"];

    [Theory]
    [MemberData(nameof(NotJson))]
    public async Task Register_WithABodyThatIsNotJson_Is415ProblemDetails_AndCreatesNothing(string kind)
    {
        var email = AccountApi.NewEmail();
        var json = $$"""{"email":"{{email}}","password":"{{TestData.DefaultPassword}}"}""";

        var response = await SendAsync(HttpMethod.Post, "/api/account/register", Body(kind, json, email));

        await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task EveryJsonEndpoint_AnswersABodyThatIsNotJsonWith415ProblemDetails(string method, string path)
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var before = await data.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));

        foreach (var kind in new[] { "form", "text/plain", "no content type" })
        {
            var response = await SendAsync(new HttpMethod(method), path, Body(kind, $$"""{"email":"{{user.Email}}"}""", user.Email), user.Tokens.AccessToken);
            await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, $"{kind} to {method} {path}");
        }

        var after = await data.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));
        Assert.Equal((before.PasswordHash, before.ConcurrencyStamp, before.FirstName), (after.PasswordHash, after.ConcurrencyStamp, after.FirstName));
    }

    [Theory]
    [InlineData("DELETE", "/api/account/register")]
    [InlineData("GET", "/api/account/password")]
    [InlineData("PATCH", "/api/account/profile")]
    [InlineData("POST", "/api/account/confirm-email")]
    public async Task AMethodAPathDoesNotAllow_Is405ProblemDetails(string method, string path)
    {
        var response = await SendAsync(new HttpMethod(method), path, new StringContent("{}", Encoding.UTF8, "application/json"));

        await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.NotEmpty(response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("email", "email")]
    [InlineData("email", "Email")] // member names are matched without regard to case, so this too is one member twice
    public async Task Register_WithARepeatedMember_Is400NamingIt_AndCreatesNothing(string first, string second)
    {
        var (a, b) = (AccountApi.NewEmail(), AccountApi.NewEmail());
        var json = $$"""{"{{first}}":"{{a}}","password":"{{TestData.DefaultPassword}}","{{second}}":"{{b}}"}""";

        var response = await SendAsync(HttpMethod.Post, "/api/account/register", new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.Equal(second, error.Name);
        Assert.Contains("more than once", error.Value[0].GetString());
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == a || u.Email == b)));
    }

    [Theory]
    [InlineData("number", "Expected a string.")]
    [InlineData("invalid UTF-8", "Expected a string of valid UTF-8.")]
    [InlineData("lone surrogate", "Expected a string of valid Unicode text")]
    [InlineData("object", "Expected a string.")]
    public async Task Register_WithAnUnreadableMember_Is400NamingItInWordsOfTheApi_AndCreatesNothing(string kind, string message)
    {
        var email = AccountApi.NewEmail();
        var value = kind switch
        {
            "number" => "5"u8.ToArray(), "object" => "{}"u8.ToArray(), "lone surrogate" => "\"a\\ud800b\""u8.ToArray(),
            _ => [(byte)'"', 0xFF, 0xFE, (byte)'"'],
        };
        var body = Encoding.UTF8.GetBytes($$"""{"email":"{{email}}","password":"{{TestData.DefaultPassword}}","firstName":""").Concat(value).Concat("}"u8.ToArray()).ToArray();
        var content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };

        var response = await SendAsync(HttpMethod.Post, "/api/account/register", content);

        var problem = await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, kind);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.Equal("firstName", error.Name);
        Assert.StartsWith(message, error.Value[0].GetString());
        Assert.DoesNotContain("System.", problem.GetRawText());
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Theory]
    [InlineData("POST", "/api/account/register")]
    [InlineData("POST", "/api/account/password")]
    [InlineData("PUT", "/api/account/profile")]
    [InlineData("POST", "/api/account/password/reset")]
    public async Task ABodyThatIsNotAJsonObject_Is400SayingSo_InWordsOfTheApi(string method, string path)
    {
        // An empty or null body was reported under "" and under "request" (our parameter's name), an array or a string
        // as not convertible to "Identity.Server.Accounts.Contracts.RegisterRequest".
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);

        foreach (var body in new[] { "", "null", "[]", "[{}]", "\"text\"", "5", "true" })
        {
            var response = await SendAsync(new HttpMethod(method), path, new StringContent(body, Encoding.UTF8, "application/json"), user.Tokens.AccessToken);

            var problem = await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, $"'{body}'");
            var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
            Assert.True(error.Name == "", $"'{body}': {problem.GetRawText()}");
            Assert.Equal("A JSON object is required.", Assert.Single(error.Value.EnumerateArray()).GetString());
            Assert.DoesNotContain("Identity.Server", problem.GetRawText());
        }
    }

    [Fact]
    public async Task InputRefusedByValidation_OrByTheHandler_HasOneShape()
    {
        // A malformed email is refused before the handler runs, a common password by the handler; a client should not
        // have to tell the two apart.
        var (invalid, invalidJson) = await api.RegisterAsync("not-an-email");
        var (weak, weakJson) = await api.RegisterAsync(AccountApi.NewEmail(), "password1");
        var taken = AccountApi.NewEmail();
        await api.RegisterAsync(taken);
        var (conflict, conflictJson) = await api.RegisterAsync(taken);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.Conflict), (invalid.StatusCode, weak.StatusCode, conflict.StatusCode));
        Assert.Equal(invalidJson.GetProperty("type").GetString(), weakJson.GetProperty("type").GetString());
        Assert.Equal(invalidJson.GetProperty("title").GetString(), weakJson.GetProperty("title").GetString());
        Assert.EndsWith("#section-15.5.10", conflictJson.GetProperty("type").GetString()); // RFC 9110's 409
        Assert.Equal("Conflict", conflictJson.GetProperty("title").GetString());
        Assert.All([invalidJson, weakJson, conflictJson], json => Assert.True(json.TryGetProperty("traceId", out _)));
        Assert.Equal("password", Assert.Single(weakJson.GetProperty("errors").EnumerateObject()).Name);
    }

    [Theory]
    [InlineData("repeated", "more than once")]
    [InlineData("invalid UTF-8", "valid UTF-8")]
    public async Task AMemberTheApiDoesNotRead_RepeatedOrNotUtf8_Is400NamingIt(string kind, string message)
    {
        // System.Text.Json skips a member it does not bind without reading it: both passed (SPEC §3, §6).
        byte[] zzz = kind == "repeated" ? "\"a\",\"zzz\":2"u8.ToArray() : [(byte)'"', 0xFF, (byte)'"'];
        var body = "{\"email\":\"someone@example.test\",\"zzz\":"u8.ToArray().Concat(zzz).Concat("}"u8.ToArray()).ToArray();
        var content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };

        var response = await SendAsync(HttpMethod.Post, "/api/account/password/forgot", content);

        var problem = await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, kind);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.Equal("zzz", error.Name);
        Assert.Contains(message, error.Value[0].GetString());
    }

    [Fact]
    public async Task PasswordReset_WithARepeatedMember_Is400_AndChangesNothing()
    {
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var before = await data.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == user.UserId).Select(u => u.PasswordHash).SingleAsync());
        var json = $$"""{"userId":"{{user.UserId}}","token":"x","newPassword":"a brand new passphrase","newPassword":"another passphrase here"}""";

        var response = await SendAsync(HttpMethod.Post, "/api/account/password/reset", new StringContent(json, Encoding.UTF8, "application/json"));

        await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(before, await data.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == user.UserId).Select(u => u.PasswordHash).SingleAsync()));
    }

    [Theory]
    [InlineData("GET", "/api/account/confirm-email?userId=%00&token=x", null)]
    [InlineData("POST", "/api/account/password/reset", """{"userId":"\u0000","token":"x","newPassword":"correct horse battery"}""")]
    [InlineData("POST", "/api/account/register", """{"email":"{email}","password":"correct horse battery","firstName":"\u0000"}""")]
    [InlineData("PUT", "/api/account/profile", """{"lastName":"a\u0000b"}""")]
    public async Task ANulCharacter_Is400_NotA500FromPostgreSql(string method, string path, string? json)
    {
        // PostgreSQL refuses a NUL in text outright (SQLSTATE 22021); SQLite took it. SPEC §6: a 4xx, and nothing changes.
        var user = await AccountJourney.RegisterConfirmAndSignInAsync(server, api);
        var email = AccountApi.NewEmail();
        var content = json is null ? null : new StringContent(json.Replace("{email}", email), Encoding.UTF8, "application/json");
        var lastName = await data.DbAsync(db => db.Users.Where(u => u.Id == user.UserId).Select(u => u.LastName).SingleAsync());

        var response = await SendAsync(new HttpMethod(method), path, content!, user.Tokens.AccessToken);

        await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.False(await data.DbAsync(db => db.Users.AnyAsync(u => u.Email == email)));
        Assert.Equal(lastName, await data.DbAsync(db => db.Users.Where(u => u.Id == user.UserId).Select(u => u.LastName).SingleAsync()));
    }

    private static HttpContent Body(string kind, string json, string email) => kind switch
    {
        "form" => new FormUrlEncodedContent([new("email", email), new("password", TestData.DefaultPassword)]),
        "text/plain" => new StringContent(json, Encoding.UTF8, "text/plain"),
        _ => new ByteArrayContent(Encoding.UTF8.GetBytes(json)), // no Content-Type header at all, as a hand-written client might send
    };

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent content, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (accessToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var response = await server.CreateClient().SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
