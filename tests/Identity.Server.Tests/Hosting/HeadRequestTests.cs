using System.Net;
using System.Net.Http.Headers;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// RFC 9110 §9.1: a general-purpose server MUST support HEAD; §9.3.2: it is GET without content, with the same header
/// fields. And HEAD is safe (§9.2.1): it never runs a GET that changes something.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class HeadRequestTests(ServerFixture server)
{
    private readonly HttpClient http = server.CreateClient();
    private readonly TestData data = new(server);

    [Theory]
    // The discovery documents say their Content-Length; the others are streamed, and a HEAD may then omit it (§9.3.2).
    [InlineData("/.well-known/openid-configuration", false, true)]
    [InlineData("/.well-known/jwks", false, true)]
    [InlineData("/openapi/v1.json", false, false)]
    [InlineData("/connect/userinfo", true, false)]
    [InlineData("/api/account/profile", true, false)]
    public async Task HeadOnAReadOnlyResource_AnswersAsGet_WithoutContent(string path, bool signedIn, bool saysItsLength)
    {
        var token = signedIn ? await AccessTokenAsync() : null;

        var get = await SendAsync(HttpMethod.Get, path, token);
        var head = await SendAsync(HttpMethod.Head, path, token);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
        Assert.Equal(get.Headers.Vary, head.Headers.Vary);
        if (saysItsLength) Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task HeadOnAProtectedResource_WithoutAToken_IsTheGetsChallenge()
    {
        var get = await SendAsync(HttpMethod.Get, "/api/account/profile", null);
        var head = await SendAsync(HttpMethod.Head, "/api/account/profile", null);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (get.StatusCode, head.StatusCode));
        Assert.Equal(get.Headers.WwwAuthenticate.ToString(), head.Headers.WwwAuthenticate.ToString());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/connect/authorize?client_id=x&response_type=code&redirect_uri=https://app.example.test/cb&scope=openid")]
    [InlineData("/connect/endsession")]
    [InlineData("/api/account/confirm-email?userId=x&token=y")]
    public async Task HeadOnAGetThatChangesSomething_IsNotRunAsGet(string path)
    {
        var head = await SendAsync(HttpMethod.Head, path, null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
    }

    [Theory]
    [InlineData("/connect/token")]
    [InlineData("/connect/revoke")]
    [InlineData("/connect/par")]
    public async Task HeadOnAPostOnlyEndpoint_IsStillRefused(string path)
    {
        var head = await SendAsync(HttpMethod.Head, path, null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Equal(["POST"], head.Content.Headers.Allow);
    }

    private async Task<string> AccessTokenAsync()
    {
        var (client, user) = (await data.ClientAsync(isPublic: true), await data.UserAsync());
        return (await new ProtocolClient(http).PasswordGrantAsync(client, user, "openid profile email")).AccessToken!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? accessToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (accessToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
