using System.Diagnostics;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// The server as panva's oauth4webapi, openid-client and jose see it (tests/tools/conformance.mjs): the clients the
/// product's users, and its black-box judges, actually use.
/// </summary>
public sealed class ThirdPartyClientTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    [Fact]
    public async Task ThirdPartyClients_CompleteEveryFlow()
    {
        var data = new TestData(host.Server);
        var confidential = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope], allowIntrospection: true);
        var spa = await data.ClientAsync(isPublic: true);
        var redirectUri = new Uri(host.BaseAddress, "/callback").ToString();
        var signedOutUri = new Uri(host.BaseAddress, "/signed-out").ToString();
        var codeClient = await data.ClientAsync(grants: ["authorization_code", "refresh_token"], isPublic: true, redirectUris: [redirectUri], requireConsent: false,
            postLogoutRedirectUris: [signedOutUri]);
        var user = await data.UserAsync();
        using var signingKey = new ClientKey();
        var keyClient = await data.ClientAsync(grants: ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"],
            scopes: ["openid", "profile", TestData.ApiScope], allowIntrospection: true, jsonWebKeySet: signingKey.PublicJwks, withSecret: false);
        var tv = await data.ClientAsync(grants: [DeviceFlow.GrantType, "refresh_token"], isPublic: true, scopes: ["openid", "offline_access"]);

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.Combine(RepositoryPaths.Root, "tests", "tools") };
        start.ArgumentList.Add("conformance.mjs");
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ISSUER"] = host.BaseAddress.ToString(), ["CONFIDENTIAL_ID"] = confidential.ClientId, ["CONFIDENTIAL_SECRET"] = confidential.Secret!,
            ["PUBLIC_ID"] = spa.ClientId, ["CODE_CLIENT_ID"] = codeClient.ClientId, ["REDIRECT_URI"] = redirectUri, ["POST_LOGOUT_REDIRECT_URI"] = signedOutUri,
            ["USERNAME"] = user.UserName, ["PASSWORD"] = user.Password, ["USER_ID"] = user.Id, ["API_AUDIENCE"] = TestData.ApiResource,
            ["KEY_CLIENT_ID"] = keyClient.ClientId, ["KEY_PRIVATE_JWK"] = signingKey.PrivateJwk, ["DEVICE_CLIENT_ID"] = tv.ClientId,
        })
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, await output + await errors);
        Assert.Contains("15 passed, 0 failed", await output);
    }
}
