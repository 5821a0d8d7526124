using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Identity.Server.Tests.Accounts;

/// <summary>
/// How the account API takes its access token and what may keep its answers: the Authorization header only (RFC 6750
/// §2.1; a token in the query string lands in logs and histories, SPEC §4 "no secret in a URL"), a challenge that names
/// its realm, and nothing cached (RFC 6750 §5.3).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BearerTransportTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly HttpClient http = server.CreateClient();
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private async Task<string> AccessTokenAsync() =>
        (await protocol.PasswordGrantAsync(await data.ClientAsync(), await data.UserAsync(), "openid profile")).AccessToken!;

    [Fact]
    public async Task ATokenInTheQueryString_IsNotRead()
    {
        var token = await AccessTokenAsync();

        var get = await http.GetAsync($"/api/account/profile?access_token={token}");
        var put = await http.PutAsJsonAsync($"/api/account/profile?access_token={token}", new { firstName = "ViaQuery" });

        Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
        Assert.Equal("Bearer realm=\"Identity Server\"", get.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task AGarbageQueryToken_BesideAGoodHeader_ChangesNothing()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/account/profile?access_token=garbage")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", await AccessTokenAsync()) },
        };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("Bearer  ")]
    [InlineData("bearer   ")]
    public async Task MoreThanOneSpaceAfterBearer_IsTheSameToken(string prefix)
    {
        // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
        var authorization = prefix + await AccessTokenAsync();

        // Built here, not sent through HttpClient, which tidies "Bearer  x" into "Bearer x" on its way.
        var context = await server.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Get;
            c.Request.Scheme = "https";
            c.Request.Host = new HostString("localhost");
            c.Request.Path = "/api/account/profile";
            c.Request.Headers.Authorization = authorization;
        });

        Assert.True(context.Response.StatusCode == StatusCodes.Status200OK, $"{context.Response.StatusCode} {context.Response.Headers.WWWAuthenticate}");
    }

    [Fact]
    public async Task AProfile_IsNotCached()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/account/profile")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", await AccessTokenAsync()) },
        };

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore, response.Headers.CacheControl?.ToString());
    }
}
