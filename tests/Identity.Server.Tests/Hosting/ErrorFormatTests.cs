using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Identity.Server.Hosting;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// SPEC §6: malformed input is a 4xx in the format of its family — problem details on the account API whatever the
/// Accept header asks for, an OAuth error on every protocol endpoint a client calls — never a 5xx or an HTML page.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ErrorFormatTests(ServerFixture server)
{
    private readonly HttpClient http = server.CreateClient();
    private readonly TestData data = new(server);

    public static TheoryData<string> BrowserishAccepts =>
        ["text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml", "text/*", "application/xhtml+xml", "image/png"];

    [Theory]
    [MemberData(nameof(BrowserishAccepts))]
    public async Task AccountApiErrorsWithoutABody_AreProblemDetails_WhateverTheAcceptHeader(string accept)
    {
        var requests = new (HttpMethod Method, string Path, HttpContent? Body, HttpStatusCode Status)[]
        {
            (HttpMethod.Get, "/api/account/zzz", null, HttpStatusCode.NotFound),
            (HttpMethod.Get, "/api/account/register", null, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Post, "/api/account/register", new StringContent("x", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType),
            (HttpMethod.Get, "/health/nothing", null, HttpStatusCode.NotFound),
        };
        foreach (var (method, path, body, status) in requests)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body };
            request.Headers.TryAddWithoutValidation("Accept", accept);

            var response = await http.SendAsync(request);

            var problem = await AssertProblemAsync(response, status, $"{method} {path}");
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
            Assert.True(problem.TryGetProperty("traceId", out _));
        }
    }

    /// <summary>
    /// RFC 8259 §8.1: JSON between systems is UTF-8. Any other declared charset is refused as a whole — before, UTF-16
    /// was transcoded and bytes that do not decode were a 500.
    /// </summary>
    [Theory]
    [InlineData("utf-16", "odd byte count")]
    [InlineData("utf-16le", "odd byte count")]
    [InlineData("utf-16", "unpaired surrogate")]
    [InlineData("utf-16", "valid")]
    [InlineData("utf-32", "valid")]
    [InlineData("iso-8859-1", "valid")]
    public async Task JsonInAnotherCharsetThanUtf8_Is415ProblemDetails_AndCreatesNothing(string charset, string kind)
    {
        var email = AccountApi.NewEmail();
        var json = $$"""{"email":"{{email}}","password":"{{TestData.DefaultPassword}}","firstName":"x"}""";
        var bytes = charset switch
        {
            "utf-32" => Encoding.UTF32.GetBytes(json),
            "iso-8859-1" => Encoding.Latin1.GetBytes(json),
            _ => Encoding.Unicode.GetBytes(json),
        };
        if (kind == "unpaired surrogate")
        {
            // The firstName "x" becomes a lone high surrogate, which no encoder would write.
            var at = 2 * (json.IndexOf("\"x\"", StringComparison.Ordinal) + 1);
            (bytes[at], bytes[at + 1]) = (0x00, 0xD8);
        }
        if (kind == "odd byte count") bytes = [.. bytes, (byte)'x'];
        var content = new ByteArrayContent(bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        var response = await http.PostAsync("/api/account/register", content);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, $"{charset} {kind}");
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json")]
    public async Task JsonInUtf8_IsRead(string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"email":"{{AccountApi.NewEmail()}}"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await http.PostAsync("/api/account/confirm-email/resend", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    public static TheoryData<string, string> MalformedProtocolRequests()
    {
        var result = new TheoryData<string, string>();
        var malformed = new[]
        {
            "client_id=x&response_type=code&x=a%00b",
            "client_id=x&x=" + new string('a', 100 * 1024), // past FormOptions' value length, under the body size limit
            string.Join('&', Enumerable.Range(0, 20_000).Select(i => $"p{i}=1")),
        };
        foreach (var path in new[] { "/connect/token", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/connect/par", "/connect/device" })
            foreach (var form in malformed) result.Add(path, form);
        return result;
    }

    [Theory]
    [MemberData(nameof(MalformedProtocolRequests))]
    public async Task AFormThatCannotBeRead_IsAnOAuthError_OnEveryProtocolEndpoint(string path, string form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded") };
        request.Headers.Accept.ParseAdd("text/html"); // a browser's habit must not turn it into a page

        var response = await http.SendAsync(request);

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("GET", "/connect/token/x")]
    [InlineData("POST", "/connect/par/x")]
    [InlineData("GET", "/.well-known/nothing")]
    [InlineData("PUT", "/.well-known/nothing")]
    public async Task AnUnknownPathAmongTheProtocolEndpoints_IsA404OAuthError(string method, string path)
    {
        var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await AssertOAuthErrorAsync(response, HttpStatusCode.NotFound, "invalid_request");
    }

    [Fact]
    public async Task AUserInfoRequestWithoutCredentials_StaysA401WithoutAnErrorCode()
    {
        // RFC 6750 §3.1: no error code for a request that carried no authentication; the empty-error filler must not add one.
        var response = await http.GetAsync("/connect/userinfo");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("error", response.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain("\"error\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/connect/token", "Protocol")]
    [InlineData("/connect/revoke", "Protocol")]
    [InlineData("/connect/introspect", "Protocol")]
    [InlineData("/connect/userinfo", "Protocol")]
    [InlineData("/connect/par", "Protocol")]
    [InlineData("/CONNECT/DEVICE", "Protocol")]
    [InlineData("/.well-known/openid-configuration", "Protocol")]
    [InlineData("/.well-known/jwks", "Protocol")]
    [InlineData("/connect/authorize", "Page")]
    [InlineData("/connect/endsession", "Page")]
    [InlineData("/connect/verify", "Page")]
    [InlineData("/connect/consent", "Page")]
    [InlineData("/connect/parx", "Page")]
    [InlineData("/account/login", "Page")]
    [InlineData("/api/account/register", "Api")]
    [InlineData("/health/ready", "Api")]
    public void EveryPathBelongsToTheFamilyOfItsClients(string path, string family) =>
        Assert.Equal(Enum.Parse<EndpointFamily>(family), EndpointFamilies.Of(new PathString(path)));

    [Theory]
    [InlineData("/account/logn")]
    [InlineData("/connect/consentx")]
    public async Task APageThatDoesNotExist_IsAPageSayingSo(string path)
    {
        // For people: the browser showed its own "This page can't be found" for the framework's empty 404.
        var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("<h1>Page not found</h1>", page);
        Assert.Contains("<html lang=\"en\">", page);
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? what = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{what}: {(int)response.StatusCode} {body}");
        Assert.True("application/problem+json" == response.Content.Headers.ContentType?.MediaType, $"{what}: {response.Content.Headers.ContentType} '{body}'");
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        // One shape for every error of the API (RFC 9457): a type for the status, and the trace to find it in the logs.
        Assert.True(problem.TryGetProperty("type", out _), $"{what}: no type in {body}");
        Assert.True(problem.TryGetProperty("traceId", out _), $"{what}: no traceId in {body}");
        return problem;
    }

    internal static async Task AssertOAuthErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(["error", "error_description"], json.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(error, json.GetProperty("error").GetString());
    }
}
