using Identity.Server.Protocol;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Identity.Server.Tests.Protocol.Clients;

/// <summary>
/// RFC 9700 §2.6: with Identity:RequireHttps a redirect or post-logout redirect URI over http is refused at start-up
/// unless its host is loopback (a native app); without it (Development) http is fine. The refusal through a real
/// start-up is in ConfigurationTests.
/// </summary>
public sealed class ClientDefinitionValidatorTests
{
    private static ValidateOptionsResult Validate(bool requireHttps, string redirectUri, string postLogoutRedirectUri = "https://app.example.test/")
    {
        var validator = new ClientDefinitionValidator(Options.Create(new List<ScopeDefinition>()), new ConfigurationBuilder().Build(),
            Options.Create(new ProtocolOptions { RequireHttps = requireHttps }));
        return validator.Validate(null, [new ClientDefinition
        {
            ClientId = "native", Type = "public", AllowedGrantTypes = ["authorization_code"], AllowedScopes = ["openid"],
            RedirectUris = [redirectUri], PostLogoutRedirectUris = [postLogoutRedirectUri],
        }]);
    }

    [Theory]
    [InlineData("http://127.0.0.1/cb")]
    [InlineData("http://[::1]/cb")]
    [InlineData("http://localhost:5173/callback")]
    [InlineData("https://app.example.test/cb")]
    [InlineData("com.example.app:/oauth2redirect")]
    public void RequireHttps_AcceptsHttpsLoopbackAndPrivateSchemes(string redirectUri)
    {
        Assert.True(Validate(requireHttps: true, redirectUri, postLogoutRedirectUri: redirectUri).Succeeded);
    }

    [Theory]
    [InlineData("http://plain.example.com/cb")]
    [InlineData("http://192.0.2.1/cb")]
    [InlineData("http://localhost.example.com/cb")]
    public void RequireHttps_RefusesHttpOffLoopback_NamingTheKey(string uri)
    {
        var redirect = Validate(requireHttps: true, uri);
        Assert.Contains($"Identity:Clients:0:RedirectUris: '{uri}'", redirect.FailureMessage);

        var postLogout = Validate(requireHttps: true, "https://app.example.test/cb", postLogoutRedirectUri: uri);
        Assert.Contains($"Identity:Clients:0:PostLogoutRedirectUris: '{uri}'", postLogout.FailureMessage);
    }

    [Fact]
    public void WithoutRequireHttps_HttpIsAccepted()
    {
        Assert.True(Validate(requireHttps: false, "http://plain.example.com/cb", postLogoutRedirectUri: "http://plain.example.com/").Succeeded);
    }
}
