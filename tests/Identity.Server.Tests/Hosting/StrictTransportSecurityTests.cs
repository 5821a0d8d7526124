using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// Outside Development, an answer over HTTPS tells the browser to use nothing else for this host for a year, so that a
/// later plain-HTTP link to the login page cannot be downgraded by someone on the network.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class StrictTransportSecurityTests(ServerFixture server)
{
    [Theory]
    [InlineData("https://id.example.test/account/login", "max-age=31536000")]
    [InlineData("https://id.example.test/.well-known/openid-configuration", "max-age=31536000")]
    [InlineData("http://id.example.test/account/login", null)] // over plain HTTP the header means nothing, and is not sent
    [InlineData("https://localhost/account/login", null)] // a developer's machine is not pinned
    public async Task HttpsAnswers_CarryStrictTransportSecurity(string url, string? expected)
    {
        using var http = server.CreateClient();

        var response = await http.GetAsync(url);

        Assert.Equal(expected, response.Headers.TryGetValues("Strict-Transport-Security", out var values) ? values.Single() : null);
    }
}
