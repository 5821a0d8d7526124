using System.Net;
using System.Text;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Protocol.Token;

[Collection(ServerCollection.Name)]
public sealed class TokenEndpointTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task JsonBody_IsInvalidRequest()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new StringContent("""{"grant_type":"client_credentials"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = ProtocolClient.Basic(client.ClientId, client.Secret!);

        var result = await protocol.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
    }

    [Fact]
    public async Task MissingGrantType_IsInvalidRequest()
    {
        var client = await data.ClientAsync();
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("scope", "openid")));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
    }

    [Fact]
    public async Task UnknownGrantType_IsUnsupportedGrantType()
    {
        var client = await data.ClientAsync();
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "urn:example:magic")));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unsupported_grant_type", result.Error);
    }

    [Fact]
    public async Task RepeatedParameter_IsInvalidRequest()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "client_credentials"), ("scope", "api1"), ("scope", "api1")));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
        Assert.Contains("scope", result.ErrorDescription);
    }

    [Fact]
    public async Task HugeValue_Is4xxAndIssuesNothing()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "client_credentials"), ("scope", new string('a', 100_000))));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
        Assert.Empty(await data.TokensAsync(client.ClientId));
    }

    [Fact]
    public async Task OversizedBody_Is4xx()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new StringContent("grant_type=password&junk=" + new string('x', 2 * 1024 * 1024), Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        var result = await protocol.SendAsync(request);
        Assert.InRange((int)result.Status, 400, 499);
    }

    [Fact]
    public async Task LongGrantOfNonsense_NeverFailsWith5xx()
    {
        var client = await data.ClientAsync();
        foreach (var form in new[]
        {
            ProtocolClient.Form(("grant_type", "password"), ("username", new string('u', 60_000)), ("password", "x")),
            ProtocolClient.Form(("grant_type", "refresh_token"), ("refresh_token", new string('r', 60_000))),
            ProtocolClient.Form(("grant_type", "password"), ("username", "\u0000\uFFFF"), ("password", "\uD800")),
            ProtocolClient.Form(("grant_type", "refresh_token"), ("refresh_token", "%%%")),
        })
        {
            var result = await protocol.TokenAsync(client, form);
            Assert.InRange((int)result.Status, 400, 499);
        }
    }

    [Fact]
    public async Task NoClientAtAll_Is401InvalidClient()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"))),
        };
        var result = await protocol.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    [Fact]
    public async Task WrongSecretWithBasic_Is401WithBasicChallenge()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.TokenAsync(client with { Secret = client.Secret + "x" }, ProtocolClient.Form(("grant_type", "client_credentials")));
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
        Assert.StartsWith("Basic", result.Response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task WrongSecretInBody_Is401InvalidClient()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"), ("client_id", client.ClientId), ("client_secret", "wrong-secret-wrong-secret-wrong-secret"))),
        };
        var result = await protocol.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    [Fact]
    public async Task SecretInBody_IsClientSecretPost()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"), ("client_id", client.ClientId), ("client_secret", client.Secret))),
        };
        var result = await protocol.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, result.Status);
    }

    [Fact]
    public async Task BasicAndPostTogether_IsInvalidRequest()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"), ("client_id", client.ClientId), ("client_secret", client.Secret))),
        };
        request.Headers.Authorization = ProtocolClient.Basic(client.ClientId, client.Secret!);
        var result = await protocol.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
    }

    [Fact]
    public async Task PublicClientPresentingASecret_IsInvalidClient()
    {
        var client = await data.ClientAsync(isPublic: true);
        var user = await data.UserAsync();
        var result = await protocol.TokenAsync(client with { Secret = "made-up-made-up-made-up-made-up-made-up" },
            ProtocolClient.Form(("grant_type", "password"), ("username", user.UserName), ("password", user.Password)));
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    [Fact]
    public async Task GrantTheClientMayNotUse_IsUnauthorizedClient()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var user = await data.UserAsync();
        var result = await protocol.PasswordGrantAsync(client, user);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unauthorized_client", result.Error);
    }

    [Theory]
    [InlineData("refresh_token", "refresh_token")]
    [InlineData("authorization_code", "code")]
    [InlineData("urn:ietf:params:oauth:grant-type:device_code", "device_code")]
    public async Task GrantTheClientMayNotUse_IsUnauthorizedClient_WhateverItPresents(string grantType, string parameter)
    {
        // Checked before the presented token: an unusable one does not turn the answer into invalid_grant.
        var confidential = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.TokenAsync(confidential, ProtocolClient.Form(("grant_type", grantType), (parameter, "not-a-token"),
            ("redirect_uri", "https://app.example.test/cb"), ("code_verifier", AuthorizationCodeGrantTests.NewVerifier())));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("unauthorized_client", result.Error);

        var publicClient = await data.ClientAsync(grants: ["password"], isPublic: true);
        result = await protocol.TokenAsync(publicClient, ProtocolClient.Form(("grant_type", grantType), (parameter, "not-a-token"),
            ("redirect_uri", "https://app.example.test/cb"), ("code_verifier", AuthorizationCodeGrantTests.NewVerifier())));
        Assert.Equal("unauthorized_client", result.Error);
    }

    [Fact]
    public async Task AnotherClientsRefreshToken_FromAClientNotAllowedTheGrant_IsUnauthorizedClient()
    {
        var (owner, user) = (await data.ClientAsync(isPublic: true), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(owner, user);
        var stranger = await data.ClientAsync(grants: ["password"], isPublic: true);

        var result = await protocol.RefreshAsync(stranger, tokens.RefreshToken!);

        Assert.Equal("unauthorized_client", result.Error);
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(owner, tokens.RefreshToken!)).Status);
    }

    [Fact]
    public async Task Success_IsNotCacheable()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("no-store", result.Response.Headers.CacheControl?.ToString());
        Assert.Contains("no-cache", result.Response.Headers.Pragma.ToString());
        Assert.Equal("application/json", result.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Errors_AreNotCacheable()
    {
        var result = await protocol.TokenAsync(new TestClient("nobody", "secret"), ProtocolClient.Form(("grant_type", "client_credentials")));
        Assert.Equal("no-store", result.Response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task PlainHttp_WhenHttpsRequired_IsRefused()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var http = server.CreateClient(new() { BaseAddress = new Uri("http://localhost") });
        var result = await new ProtocolClient(http).ClientCredentialsAsync(client);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
        Assert.Equal("HTTPS is required.", result.ErrorDescription);
    }

    [Fact]
    public async Task GetOnTokenEndpoint_Is4xx()
    {
        var response = await protocol.Http.GetAsync("/connect/token");
        Assert.InRange((int)response.StatusCode, 400, 499);
    }
}
