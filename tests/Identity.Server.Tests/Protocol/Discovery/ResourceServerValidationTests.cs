using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Tests.Protocol.Discovery;

/// <summary>A resource server's view: discovery + JWKS fetched by Microsoft's own ConfigurationManager, tokens validated by JsonWebTokenHandler.</summary>
[Collection(ServerCollection.Name)]
public sealed class ResourceServerValidationTests(ServerFixture server)
{
    private readonly TestData data = new(server);

    [Fact]
    public async Task AccessToken_ValidatesAgainstDiscoveryAndJwks()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope]);
        var token = (await new ProtocolClient(server.CreateClient()).ClientCredentialsAsync(client, TestData.ApiScope)).AccessToken!;

        var result = await ValidateAsync(server, token, TestData.ApiResource);

        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal("at+jwt", ((JsonWebToken)result.SecurityToken).Typ);
        Assert.Equal(client.ClientId, result.Claims["client_id"]);
    }

    [Fact]
    public async Task TokenForAnotherAudience_DoesNotValidate()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope]);
        var token = (await new ProtocolClient(server.CreateClient()).ClientCredentialsAsync(client, TestData.ApiScope)).AccessToken!;

        var result = await ValidateAsync(server, token, "https://other-api.example.test");

        Assert.False(result.IsValid);
    }

    [Fact]
    public async Task TamperedToken_DoesNotValidate()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope]);
        var token = (await new ProtocolClient(server.CreateClient()).ClientCredentialsAsync(client, TestData.ApiScope)).AccessToken!;
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace(client.ClientId, client.ClientId + "x");
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        Assert.False((await ValidateAsync(server, tampered, TestData.ApiResource)).IsValid);
    }

    [Fact]
    public async Task AfterKeyRotation_OldAndNewTokensBothValidate()
    {
        // Start three hours back so that tokens issued on the moved clock are current for a real-time validator.
        var time = new TestTimeProvider(DateTimeOffset.UtcNow.AddHours(-3));
        await using var host = server.WithTime(time).WithWebHostBuilder(b => b.UseSetting("Identity:Tokens:SigningKeyRotation", "01:00:00")
            .UseSetting("Identity:Tokens:SigningKeyPublishAhead", "00:10:00"));
        var hostData = new TestData(host);
        var protocol = new ProtocolClient(host.HttpsClient());
        var client = await hostData.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope], accessTokenLifetime: TimeSpan.FromDays(1));

        var before = (await protocol.ClientCredentialsAsync(client, TestData.ApiScope)).AccessToken!;
        time.Advance(TimeSpan.FromHours(2));
        var after = (await protocol.ClientCredentialsAsync(client, TestData.ApiScope)).AccessToken!;

        Assert.NotEqual(new JsonWebToken(before).Kid, new JsonWebToken(after).Kid);
        Assert.True((await ValidateAsync(host, before, TestData.ApiResource)).IsValid, "a token signed before the rotation");
        Assert.True((await ValidateAsync(host, after, TestData.ApiResource)).IsValid, "a token signed after the rotation");
    }

    internal static async Task<TokenValidationResult> ValidateAsync(WebApplicationFactory<Program> host, string token, string audience)
    {
        var http = host.HttpsClient();
        var configuration = await new ConfigurationManager<OpenIdConnectConfiguration>(
            "https://localhost/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = true }).GetConfigurationAsync(CancellationToken.None);
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = audience,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidTypes = ["at+jwt"],
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.Zero,
        });
    }
}
