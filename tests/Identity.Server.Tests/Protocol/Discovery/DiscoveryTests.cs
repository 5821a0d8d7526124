using System.Net;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol.Discovery;

[Collection(ServerCollection.Name)]
public sealed class DiscoveryTests(ServerFixture server)
{
    private readonly HttpClient http = server.CreateClient();

    [Fact]
    public async Task Document_AdvertisesEveryEndpointAndCapability()
    {
        var response = await http.GetAsync("/.well-known/openid-configuration");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.Public);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("https://localhost/", json.GetProperty("issuer").GetString());
        foreach (var (field, path) in new[]
        {
            ("token_endpoint", "connect/token"), ("authorization_endpoint", "connect/authorize"), ("revocation_endpoint", "connect/revoke"),
            ("introspection_endpoint", "connect/introspect"), ("userinfo_endpoint", "connect/userinfo"),
            ("end_session_endpoint", "connect/endsession"), ("jwks_uri", ".well-known/jwks"),
        })
            Assert.Equal("https://localhost/" + path, json.GetProperty(field).GetString());
        Assert.Equal(["authorization_code", "client_credentials", "password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"], Strings(json, "grant_types_supported").Order());
        Assert.Contains(TestData.ApiScope, Strings(json, "scopes_supported"));
        Assert.Contains("offline_access", Strings(json, "scopes_supported"));
        Assert.Equal(["code"], Strings(json, "response_types_supported"));
        Assert.Equal(["client_secret_basic", "client_secret_post", "none", "private_key_jwt"], Strings(json, "token_endpoint_auth_methods_supported").Order());
        Assert.Equal(["S256"], Strings(json, "code_challenge_methods_supported"));
        Assert.Contains("RS256", Strings(json, "id_token_signing_alg_values_supported"));
        Assert.Equal(["public"], Strings(json, "subject_types_supported"));
        Assert.Contains("email", Strings(json, "claims_supported"));
    }

    [Fact]
    public async Task Endpoints_AreUnderTheConfiguredIssuer_WhateverTheHostHeaderSays()
    {
        // A forged Host (or a trusted proxy's X-Forwarded-Host), kept by a shared cache, sent clients' secrets elsewhere.
        var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        request.Headers.Host = "evil.example";
        var json = JsonDocument.Parse(await (await http.SendAsync(request)).Content.ReadAsStringAsync()).RootElement;

        foreach (var field in new[] { "token_endpoint", "authorization_endpoint", "jwks_uri", "userinfo_endpoint", "revocation_endpoint",
            "introspection_endpoint", "end_session_endpoint", "pushed_authorization_request_endpoint", "device_authorization_endpoint" })
            Assert.StartsWith("https://localhost/", json.GetProperty(field).GetString());
    }

    [Fact]
    public async Task WithEs256Configured_IdTokensAreStillAdvertisedAndSignedInRs256Only()
    {
        // Access tokens follow Identity:Tokens:SigningAlgorithm; ID tokens stay RS256, and the document said ES256 too.
        await using var host = server.WithSettings(new Dictionary<string, string?> { ["Identity:Tokens:SigningAlgorithm"] = "ES256" });
        var json = JsonDocument.Parse(await host.HttpsClient().GetStringAsync("/.well-known/openid-configuration")).RootElement;
        var data = new TestData(host);
        var tokens = await new ProtocolClient(host.HttpsClient()).PasswordGrantAsync(await data.ClientAsync(), await data.UserAsync(), "openid");

        Assert.Equal(["RS256"], Strings(json, "id_token_signing_alg_values_supported"));
        Assert.Equal("RS256", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.IdToken).Alg);
        Assert.Equal("ES256", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.AccessToken).Alg);
    }

    [Fact]
    public async Task Document_AdvertisesPushedRequestsTheDeviceFlowAndPrivateKeyJwt()
    {
        var json = JsonDocument.Parse(await http.GetStringAsync("/.well-known/openid-configuration")).RootElement;

        Assert.Equal("https://localhost/connect/par", json.GetProperty("pushed_authorization_request_endpoint").GetString());
        // Required per client (RequirePushedAuthorizationRequests), not of every client (RFC 9126 §5).
        Assert.False(json.GetProperty("require_pushed_authorization_requests").GetBoolean());
        Assert.Equal("https://localhost/connect/device", json.GetProperty("device_authorization_endpoint").GetString());
        foreach (var endpoint in new[] { "token", "revocation", "introspection", "pushed_authorization_request", "device_authorization" })
            Assert.Contains("private_key_jwt", Strings(json, $"{endpoint}_endpoint_auth_methods_supported"));
        Assert.Contains("none", Strings(json, "pushed_authorization_request_endpoint_auth_methods_supported"));
        Assert.Contains("none", Strings(json, "device_authorization_endpoint_auth_methods_supported"));
        foreach (var endpoint in new[] { "token", "revocation", "introspection" })
        {
            var algorithms = Strings(json, $"{endpoint}_endpoint_auth_signing_alg_values_supported");
            Assert.Contains("RS256", algorithms);
            Assert.Contains("ES256", algorithms);
            Assert.DoesNotContain("none", algorithms);
            Assert.DoesNotContain("HS256", algorithms);
        }
    }

    [Fact]
    public async Task Jwks_PublishesPublicKeysOnly()
    {
        var response = await http.GetAsync("/.well-known/jwks");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.MaxAge > TimeSpan.Zero);
        var keys = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("keys");

        Assert.NotEqual(0, keys.GetArrayLength());
        foreach (var key in keys.EnumerateArray())
        {
            Assert.Equal("sig", key.GetProperty("use").GetString());
            Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
            foreach (var secret in new[] { "d", "p", "q", "dp", "dq", "qi" })
                Assert.False(key.TryGetProperty(secret, out _), $"private member '{secret}' published");
        }
    }

    private static List<string> Strings(JsonElement json, string name) =>
        json.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToList();
}
