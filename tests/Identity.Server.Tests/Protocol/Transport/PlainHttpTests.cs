using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol.Transport;

/// <summary>
/// SPEC §2: with <c>Identity:RequireHttps=true</c> (the fixture's setting) every endpoint of section 2 refuses a
/// plain-HTTP request with 400 invalid_request "HTTPS is required." — as JSON where the endpoint answers a program, in
/// the Bearer challenge at userinfo (RFC 6750 §3), on a page where a person's browser was sent.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PlainHttpTests(ServerFixture server)
{
    private readonly HttpClient http = server.CreateClient(new() { BaseAddress = new Uri("http://localhost"), AllowAutoRedirect = false });

    [Theory]
    [InlineData("GET", "/.well-known/openid-configuration")]
    [InlineData("GET", "/.well-known/jwks")]
    [InlineData("POST", "/connect/token")]
    [InlineData("POST", "/connect/revoke")]
    [InlineData("POST", "/connect/introspect")]
    [InlineData("POST", "/connect/par")]
    [InlineData("POST", "/connect/device")]
    public async Task AnEndpointForPrograms_AnswersInvalidRequestInJson(string method, string path)
    {
        var response = await SendAsync(method, path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
        Assert.Equal("HTTPS is required.", body.GetProperty("error_description").GetString());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task UserInfo_AnswersInvalidRequestInTheChallenge(string method)
    {
        var response = await SendAsync(method, "/connect/userinfo");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Contains("error=\"invalid_request\"", challenge);
        Assert.Contains("HTTPS is required.", challenge);
    }

    [Theory]
    [InlineData("GET", "/connect/authorize")]
    [InlineData("GET", "/connect/endsession")]
    [InlineData("POST", "/connect/endsession")]
    public async Task AnEndpointForBrowsers_ShowsTheRefusal_AndRedirectsNowhere(string method, string path)
    {
        var response = await SendAsync(method, path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Contains("HTTPS is required.", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET", "/account/login", "text/html")]
    [InlineData("POST", "/account/login", "text/html")]
    [InlineData("GET", "/account/reset-password", "text/html")]
    [InlineData("GET", "/connect/consent", "text/html")]
    [InlineData("POST", "/api/account/register", "application/problem+json")]
    [InlineData("GET", "/api/account/profile", "application/problem+json")]
    public async Task APageOrTheAccountApi_RefusesPlainHttp_SoThatNoPasswordCrossesItInClear(string method, string path, string mediaType)
    {
        // RFC 6749 §3.1: the person's authentication MUST use TLS; a misrouted port or proxy took passwords in clear.
        var response = await SendAsync(method, path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("HTTPS is required.", await response.Content.ReadAsStringAsync());
        if (mediaType == "application/problem+json") await Hosting.ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, path);
    }

    [Fact]
    public async Task TheProbes_AnswerOverPlainHttp()
    {
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    private Task<HttpResponseMessage> SendAsync(string method, string path) => method == "GET"
        ? http.GetAsync($"{path}?client_id=spa")
        : http.PostAsync(path, new FormUrlEncodedContent([new("client_id", "spa"), new("token", "x")]));
}
