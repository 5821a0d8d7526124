using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol;

[Collection(ServerCollection.Name)]
public sealed class CorsTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly HttpClient http = server.CreateClient();

    [Theory]
    [InlineData("/connect/token")]
    [InlineData("/connect/revoke")]
    [InlineData("/connect/userinfo")]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/api/account/profile")]
    public async Task Preflight_FromAListedOrigin_IsAllowedWithThatOrigin(string path)
    {
        var origin = $"https://app-{Guid.NewGuid():N}.example.test";
        await data.ClientAsync(corsOrigins: [origin]);

        var response = await PreflightAsync(path, origin);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(origin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("PUT", response.Headers.GetValues("Access-Control-Allow-Methods").Single()); // PUT /api/account/profile
        Assert.Contains("Authorization", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
    }

    [Theory]
    [InlineData("https://evil.example.test")]
    [InlineData("null")]
    public async Task Preflight_FromAnyOtherOrigin_GetsNoCorsHeaders(string origin)
    {
        var response = await PreflightAsync("/connect/token", origin);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ListedOrigin_WithAPathOrOtherPort_IsNotTheSameOrigin()
    {
        var origin = $"https://app-{Guid.NewGuid():N}.example.test";
        await data.ClientAsync(corsOrigins: [origin]);
        Assert.False((await PreflightAsync("/connect/token", origin + ":8443")).Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False((await PreflightAsync("/connect/token", "http" + origin[5..])).Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ActualRequest_FromAListedOrigin_CarriesTheOrigin()
    {
        var origin = $"https://app-{Guid.NewGuid():N}.example.test";
        var client = await data.ClientAsync(grants: ["client_credentials"], corsOrigins: [origin]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"))),
        };
        request.Headers.Authorization = ProtocolClient.Basic(client.ClientId, client.Secret!);
        request.Headers.Add("Origin", origin);

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(origin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration", null)]
    [InlineData("/.well-known/openid-configuration", "https://evil.example.test")]
    [InlineData("/.well-known/jwks", null)]
    [InlineData("/.well-known/jwks", "listed")]
    public async Task CacheableAnswers_VaryOnOrigin_WhateverTheOrigin(string path, string? origin)
    {
        // Discovery and JWKS say Cache-Control: public; without Vary: Origin a shared cache could serve the copy made
        // for one origin (or for none) to a listed origin, whose browser would then refuse it.
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (origin == "listed")
        {
            origin = $"https://app-{Guid.NewGuid():N}.example.test";
            await data.ClientAsync(corsOrigins: [origin]);
        }
        if (origin is not null) request.Headers.Add("Origin", origin);

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.Public);
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.Equal(origin is not null && origin.StartsWith("https://app-"), response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private async Task<HttpResponseMessage> PreflightAsync(string path, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return await http.SendAsync(request);
    }
}
