using System.Net;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol.Transport;

/// <summary>
/// RFC 9110 §15.5.6: a method the endpoint does not support is 405 with Allow, as routing answers it for authorize, end
/// session and the account API; OpenIddict's endpoints answered 400. The body stays an OAuth error, for OAuth clients.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class UnsupportedMethodTests(ServerFixture server)
{
    [Theory]
    [InlineData("GET", "/connect/token", "POST")]
    [InlineData("PUT", "/connect/token", "POST")]
    [InlineData("DELETE", "/connect/revoke", "POST")]
    [InlineData("GET", "/connect/introspect", "POST")]
    [InlineData("GET", "/connect/par", "POST")]
    [InlineData("PATCH", "/connect/device", "POST")]
    [InlineData("PUT", "/connect/userinfo", "GET, POST, HEAD")]
    [InlineData("POST", "/.well-known/openid-configuration", "GET, HEAD")]
    [InlineData("DELETE", "/.well-known/jwks/", "GET, HEAD")]
    [InlineData("PUT", "/CONNECT/TOKEN", "POST")]
    public async Task AMethodTheEndpointDoesNotTake_Is405WithAllow_AndAnOAuthError(string method, string path, string allow)
    {
        var response = await server.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        Assert.True(response.Headers.CacheControl?.NoStore);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.Contains(method, error.GetProperty("error_description").GetString());
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/jwks")]
    public async Task Discovery_StillAnswersGetAndHead(string path)
    {
        var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path))).StatusCode);
    }
}
