using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Identity.Server.Protocol.Transport;
using Identity.Server.Tests.Hosting;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Protocol.Transport;

/// <summary>
/// SPEC §6: invalid UTF-8 is a 4xx in the family's format, never read as something else. Form bodies are UTF-8 (RFC 6749
/// Appendix B): another declared charset is refused (UTF-7 was a 500, UTF-16 was read and answered), and so are invalid
/// UTF-8 and NUL, raw or percent-encoded, in a form body and in the query of the protocol endpoints.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class Utf8GuardTests(ServerFixture server)
{
    private readonly HttpClient http = server.CreateClient();
    private readonly TestData data = new(server);

    private static readonly string[] FormEndpoints =
        ["/connect/token", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/connect/par", "/connect/device"];

    public static TheoryData<string, string> EndpointsAndCharsets()
    {
        var result = new TheoryData<string, string>();
        foreach (var path in FormEndpoints)
            foreach (var charset in new[] { "utf-7", "unicode-1-1-utf-7", "utf-16", "windows-1252", "bogus" })
                result.Add(path, charset);
        return result;
    }

    [Theory]
    [MemberData(nameof(EndpointsAndCharsets))]
    public async Task AFormInAnotherCharset_IsInvalidRequest(string path, string charset)
    {
        var response = await PostAsync(path, Encoding.ASCII.GetBytes("client_id=x&token=y"), $"application/x-www-form-urlencoded; charset={charset}");

        await AssertRefusedAsync(path, response, "RFC 6749 Appendix B");
    }

    [Fact]
    public async Task AUtf16Form_GetsNoToken()
    {
        // It was decoded as UTF-16 and answered with a token.
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new ByteArrayContent(Encoding.Unicode.GetBytes("grant_type=client_credentials")),
            Headers = { Authorization = ProtocolClient.Basic(client.ClientId, client.Secret!) },
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-16");

        var response = await http.SendAsync(request);

        await ErrorFormatTests.AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/x-www-form-urlencoded; charset=utf-8")]
    [InlineData("Application/X-WWW-Form-Urlencoded; Charset=UTF-8")]
    [InlineData("application/x-www-form-urlencoded; charset=\"utf-8\"")]
    [InlineData("application/x-www-form-urlencoded; charset=utf8")]
    [InlineData("application/x-www-form-urlencoded; charset=us-ascii")]
    [InlineData("application/x-www-form-urlencoded; charset=ISO-8859-1")] // Apache HttpClient's default
    public async Task AFormInUtf8_IsRead(string contentType)
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);

        var response = await PostAsync("/connect/token", "grant_type=client_credentials&state=a+b%21"u8.ToArray(), contentType, client);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task NonAsciiUtf8InAForm_IsRead()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);

        var response = await PostAsync("/connect/token", [.. "grant_type=client_credentials&state=%C3%A9%F0%9F%98%80+%25C0&x="u8, .. "é"u8],
            "application/x-www-form-urlencoded", client);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [InlineData("us-ascii")]
    [InlineData("iso-8859-1")]
    public async Task NonAsciiInAFormSaidToBeAnotherCharset_IsInvalidRequest(string charset)
    {
        // The form reader would read é as "??" (US-ASCII) or "Ã©" (ISO-8859-1).
        var response = await PostAsync("/connect/token", "grant_type=client_credentials&state=%C3%A9"u8.ToArray(),
            $"application/x-www-form-urlencoded; charset={charset}");

        await AssertRefusedAsync("/connect/token", response, "outside ASCII");
    }

    [Theory]
    [InlineData("application/x-www-form-urlencodedx")]
    [InlineData("application/x-www-form-urlencoded;;")]
    public async Task AMediaTypeThatOnlyBeginsLikeAForm_IsInvalidRequest(string contentType)
    {
        var response = await PostAsync("/connect/token", "grant_type=client_credentials"u8.ToArray(), contentType);

        await ErrorFormatTests.AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    public static TheoryData<string, string> EndpointsAndInvalidForms()
    {
        var result = new TheoryData<string, string>();
        foreach (var path in FormEndpoints)
            foreach (var form in new[] { "%FF%FE%C3", "%C0%AF", "%ED%A0%80", "%E2%82", "%E2%82&b=%AC" })
                result.Add(path, form);
        return result;
    }

    [Theory]
    [MemberData(nameof(EndpointsAndInvalidForms))]
    public async Task InvalidUtf8InAForm_IsInvalidRequest(string path, string value)
    {
        var response = await PostAsync(path, Encoding.ASCII.GetBytes($"client_id=x&token=y&state={value}"), "application/x-www-form-urlencoded");

        await AssertRefusedAsync(path, response, "The request is not valid UTF-8.");
    }

    [Theory]
    [InlineData("/connect/token")]
    [InlineData("/connect/userinfo")]
    public async Task RawInvalidBytesInAForm_AreInvalidRequest(string path)
    {
        var response = await PostAsync(path, [.. "client_id=x&state="u8, 0xFF, 0xFE, 0xC3], "application/x-www-form-urlencoded");

        await AssertRefusedAsync(path, response, "The request is not valid UTF-8.");
    }

    [Theory]
    [InlineData("/connect/token", "client_id=x&x=a%00b")]
    [InlineData("/connect/revoke", "client_id=x&x=a%00b")]
    [InlineData("/connect/token", "client_id=x&x=a\0b")]
    public async Task ANulInAForm_IsInvalidRequest(string path, string form)
    {
        var response = await PostAsync(path, Encoding.ASCII.GetBytes(form), "application/x-www-form-urlencoded");

        await AssertRefusedAsync(path, response, "NUL");
    }

    [Theory]
    [InlineData("/connect/endsession?client_id=spa&state=%C0%AF", "Sign-out request refused", "not valid UTF-8")]
    [InlineData("/connect/endsession?client_id=spa&state=a%00b", "Sign-out request refused", "NUL")]
    [InlineData("/connect/authorize?client_id=spa&response_type=code&state=%FF", "Sign-in request refused", "not valid UTF-8")]
    [InlineData("/connect/authorize?client_id=spa&response_type=code&state=a%00b", "Sign-in request refused", "NUL")]
    [InlineData("/connect/verify?user_code=%E2%82", "Request refused", "not valid UTF-8")]
    public async Task InvalidTextInTheQueryOfABrowserEndpoint_IsARefusalPage(string url, string title, string reason)
    {
        var response = await http.GetAsync(url);

        var page = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {response.Headers.Location} {page}");
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"<h1>{title}</h1>", page);
        Assert.Contains(reason, page);
    }

    [Theory]
    [InlineData("GET", "/connect/userinfo?x=%C0%AF", "not valid UTF-8")]
    [InlineData("POST", "/connect/token?x=%FF", "not valid UTF-8")]
    [InlineData("POST", "/connect/revoke?x=a%00b", "NUL")]
    public async Task InvalidTextInTheQueryOfAProtocolEndpoint_IsInvalidRequest(string method, string url, string reason)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method == "POST") request.Content = new FormUrlEncodedContent([new("client_id", "x"), new("token", "y")]);

        var response = await http.SendAsync(request);

        await AssertRefusedAsync(url.Split('?')[0], response, reason);
    }

    [Fact]
    public async Task ValidUtf8InTheQuery_GoesBackToTheClientUnchanged()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], isPublic: true, redirectUris: ["https://app.example.test/cb"],
            postLogoutRedirectUris: ["https://app.example.test/bye"]);

        var response = await http.GetAsync($"/connect/endsession?client_id={client.ClientId}"
            + "&post_logout_redirect_uri=https%3A%2F%2Fapp.example.test%2Fbye&state=%C3%A9%F0%9F%98%80+%25C0");

        Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther, $"{(int)response.StatusCode}");
        var location = response.Headers.Location!;
        Assert.StartsWith("https://app.example.test/bye?", location.OriginalString);
        Assert.Equal("é😀 %C0", QueryHelpers.ParseQuery(location.Query)["state"].ToString());
    }

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/account/register")]
    [InlineData("/connect/verify")]
    [InlineData("/connect/authorize")]
    [InlineData("/connect/endsession")]
    public async Task APageFormInAnotherCharset_IsARefusalPage(string path)
    {
        var response = await PostAsync(path, "UserName=a&Password=b"u8.ToArray(), "application/x-www-form-urlencoded; charset=utf-7");

        await AssertRefusalPageAsync(response, "RFC 6749 Appendix B");
    }

    [Fact]
    public async Task AMultipartPageForm_IsARefusalPage()
    {
        // Its parts name charsets of their own: UTF-7 there was a 500 too. No page sends one.
        using var form = new MultipartFormDataContent { { new StringContent("b", MediaTypeHeaderValue.Parse("text/plain; charset=utf-7")), "UserName" } };

        var response = await http.PostAsync("/account/login", form);

        await AssertRefusalPageAsync(response, "application/x-www-form-urlencoded");
    }

    [Theory]
    [InlineData("/account/login", "UserName=%C0%AF&Password=b")]
    [InlineData("/account/register", "Email=a%FF%40example.test")]
    [InlineData("/connect/verify", "TypedCode=%E2%82")]
    public async Task InvalidUtf8InAPageForm_IsARefusalPage(string path, string form)
    {
        var response = await PostAsync(path, Encoding.ASCII.GetBytes(form), "application/x-www-form-urlencoded");

        await AssertRefusalPageAsync(response, "The request is not valid UTF-8.");
    }

    [Theory]
    [InlineData("a=%C3%A9&b=%F0%9F%98%80+c%2B", null)]
    [InlineData("a=%zz&b=%&c=%4", null)] // not escapes: the form reader keeps them as they are
    [InlineData("a=%C3&b=%A9", "The request is not valid UTF-8.")] // split by '&': two broken halves
    [InlineData("a=%c3%a9", null)]
    [InlineData("a=%C0%80", "The request is not valid UTF-8.")] // overlong NUL
    [InlineData("a=%F4%90%80%80", "The request is not valid UTF-8.")] // past U+10FFFF
    [InlineData("a=%00", "The request contains a NUL character.")]
    [InlineData("a=%25C0%25AF", null)] // an escaped '%': the text "%C0%AF", decoded once
    public void Refusal_DecodesEscapesAsTheFormReaderDoes(string form, string? expected) =>
        Assert.Equal(expected, Utf8Guard.Refusal(Encoding.ASCII.GetBytes(form), Encoding.UTF8));

    [Fact]
    public void Refusal_OfALongQuery_UsesNoStackForIt()
    {
        var query = "?a=" + string.Concat(Enumerable.Repeat("%C3%A9", 2000));
        Assert.Null(Utf8Guard.Refusal(query));
        Assert.Equal("The request is not valid UTF-8.", Utf8Guard.Refusal(query + "%C3"));
        Assert.Null(Utf8Guard.Refusal("?a=é😀")); // raw non-ASCII, as Kestrel decoded it
        Assert.Null(Utf8Guard.Refusal("?a=%25C0%25AF"));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, byte[] body, string contentType, TestClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        Assert.True(request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        if (client is not null) request.Headers.Authorization = ProtocolClient.Basic(client.ClientId, client.Secret!);
        return await http.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(string path, HttpResponseMessage response, string description)
    {
        var body = await response.Content.ReadAsStringAsync();
        await ErrorFormatTests.AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains(description, body);
        Assert.True(response.Headers.CacheControl?.NoStore, response.Headers.CacheControl?.ToString());
        if (path == "/connect/userinfo")
        {
            // RFC 6750 §3: the protected resource names the error in its challenge.
            var challenge = response.Headers.WwwAuthenticate.ToString();
            Assert.StartsWith("Bearer ", challenge);
            Assert.Contains("error=\"invalid_request\"", challenge);
        }
    }

    private static async Task AssertRefusalPageAsync(HttpResponseMessage response, string reason)
    {
        var page = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {page}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html lang=\"en\">", page);
        Assert.Contains(reason, page);
    }
}
