using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Pages;

/// <summary>The consent page trusts nothing in its returnUrl: a malformed one is a 400 (SPEC §6), never a 5xx.</summary>
[Collection(ServerCollection.Name)]
public sealed class ConsentPageTests(ServerFixture server)
{
    private readonly TestData data = new(server);

    [Theory]
    [InlineData("/connect/authorize?scope=openid")] // no client_id
    [InlineData("/connect/authorize?%zz")]
    [InlineData("/connect/authorize?")]
    [InlineData("/connect/authorize?client_id=no-such-client&scope=openid")]
    [InlineData("https://evil.example.test/connect/authorize?client_id=x")]
    public async Task AMalformedReturnUrl_IsRefused(string returnUrl)
    {
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/consent", "returnUrl", returnUrl));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task AReturnUrlWithoutScope_ListsNothing()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], redirectUris: ["https://app.example.test/cb"]);
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/consent", "returnUrl", $"/connect/authorize?client_id={client.ClientId}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
