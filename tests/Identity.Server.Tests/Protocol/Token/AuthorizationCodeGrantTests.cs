using System.Net;
using System.Security.Cryptography;
using System.Text;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Tests.Protocol.Token;

/// <summary>The token endpoint's side of the code flow; codes come from /connect/authorize, for a person signed in on the login page.</summary>
[Collection(ServerCollection.Name)]
public sealed class AuthorizationCodeGrantTests(ServerFixture server)
{
    private const string RedirectUri = "https://app.example.test/callback";
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task CodeWithVerifier_IssuesTokens_WithNonceInTheIdToken()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user, nonce: "n-123");

        var result = await RedeemAsync(protocol, client, code, verifier);

        Assert.Equal(HttpStatusCode.OK, result.Status);
        var idToken = new JsonWebToken(result.IdToken);
        Assert.Equal("n-123", idToken.GetPayloadValue<string>("nonce"));
        Assert.True(idToken.TryGetPayloadValue<long>("auth_time", out _));
        Assert.True(idToken.TryGetPayloadValue<string>("sid", out _));
        var expectedAtHash = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(result.AccessToken!))[..16]);
        Assert.Equal(expectedAtHash, idToken.GetPayloadValue<string>("at_hash"));
        Assert.NotNull(result.RefreshToken);
    }

    [Fact]
    public async Task Refresh_IdToken_KeepsTheOriginalAuthentication()
    {
        // OIDC Core §12.2: iss, sub, aud, azp and auth_time as at sign-in, iat new. The sign-in's nonce comes along, as
        // node-oidc-provider does too: clients that compare it on refresh (absent or equal) accept both.
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user, nonce: "n-456");
        var tokens = await RedeemAsync(protocol, client, code, verifier);
        var first = new JsonWebToken(tokens.IdToken);
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // iat counts seconds

        var refreshed = await protocol.RefreshAsync(client, tokens.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var second = new JsonWebToken(refreshed.IdToken);
        Assert.Equal(first.Issuer, second.Issuer);
        Assert.Equal(first.Subject, second.Subject);
        Assert.Equal(first.Audiences, second.Audiences);
        Assert.Equal(first.GetPayloadValue<long>("auth_time"), second.GetPayloadValue<long>("auth_time"));
        Assert.Equal(first.TryGetPayloadValue<string>("azp", out var azp) ? azp : null, second.TryGetPayloadValue<string>("azp", out var azp2) ? azp2 : null);
        Assert.True(second.IssuedAt > first.IssuedAt);
        Assert.Equal("n-456", second.GetPayloadValue<string>("nonce"));
    }

    [Fact]
    public async Task SecondUse_IsRefused_AndRevokesWhatTheFirstIssued()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user);
        var first = await RedeemAsync(protocol, client, code, verifier);
        Assert.Equal(HttpStatusCode.OK, (await protocol.UserInfoAsync(first.AccessToken!)).Status);

        var second = await RedeemAsync(protocol, client, code, verifier);

        Assert.Equal("invalid_grant", second.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, (await protocol.UserInfoAsync(first.AccessToken!)).Status);
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task TwoRedemptionsAtOnce_OneWins_AndTheLoserRevokesWhatTheWinnerGot()
    {
        // RFC 6749 §4.1.2: a code used more than once SHOULD revoke what it issued. A loser that read the code as valid
        // failed later, at its redemption, and revoked nothing: the concurrency audit saw the winner's tokens live on
        // in 38 to 48 of 50 races, the realistic pair being a stolen code raced against its client.
        var client = await CodeClientAsync();
        for (var round = 0; round < 5; round++)
        {
            var (code, verifier) = await IssueCodeAsync(server, client, await data.UserAsync());

            var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => RedeemAsync(protocol, client, code, verifier))));

            var winner = Assert.Single(results, r => r.Status == HttpStatusCode.OK);
            Assert.Equal("invalid_grant", Assert.Single(results, r => r.Status != HttpStatusCode.OK).Error);
            Assert.Equal(HttpStatusCode.Unauthorized, (await protocol.UserInfoAsync(winner.AccessToken!)).Status);
            Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, winner.RefreshToken!)).Error);
        }
    }

    [Fact]
    public async Task WrongOrMissingVerifier_IsRefused_AndDoesNotBurnTheCode()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user);

        Assert.Equal("invalid_grant", (await RedeemAsync(protocol, client, code, NewVerifier())).Error); // RFC 7636 §4.6
        Assert.Equal("invalid_request", (await RedeemAsync(protocol, client, code, null)).Error); // a missing parameter
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(protocol, client, code, verifier)).Status);
    }

    [Fact]
    public async Task VerifierForACodeWithoutChallenge_IsRefused()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, _) = await IssueCodeAsync(server, client, user, withPkce: false);
        Assert.Equal("invalid_request", (await RedeemAsync(protocol, client, code, NewVerifier())).Error);
    }

    [Fact]
    public async Task DifferentRedirectUri_IsInvalidGrant()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user);
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", RedirectUri + "/other"), ("code_verifier", verifier)));
        Assert.Equal("invalid_grant", result.Error);
    }

    [Fact]
    public async Task AnotherClientsCode_IsInvalidGrant()
    {
        var (owner, other, user) = (await CodeClientAsync(), await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, owner, user);
        Assert.Equal("invalid_grant", (await RedeemAsync(protocol, other, code, verifier)).Error);
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(protocol, owner, code, verifier)).Status);
    }

    [Fact]
    public async Task CodeOfAPersonLockedOutSince_IsInvalidGrant()
    {
        // The person is checked again when the code is redeemed, as on every refresh (SPEC §2).
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user);
        await data.LockOutAsync(user);

        var result = await RedeemAsync(protocol, client, code, verifier);

        Assert.Equal("invalid_grant", result.Error);
        Assert.Null(result.AccessToken);
    }

    [Fact]
    public async Task CodeOfAPersonDeletedSince_IsInvalidGrant()
    {
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var (code, verifier) = await IssueCodeAsync(server, client, user);
        await data.DeleteUserAsync(user);

        Assert.Equal("invalid_grant", (await RedeemAsync(protocol, client, code, verifier)).Error);
    }

    [Fact]
    public async Task ExpiredCode_IsInvalidGrant()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostData = new TestData(host);
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var (client, user) = (await hostData.ClientAsync(grants: ["authorization_code", "refresh_token"], redirectUris: [RedirectUri], requireConsent: false), await hostData.UserAsync());
        var (code, verifier) = await IssueCodeAsync(host, client, user);

        time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        Assert.Equal("invalid_grant", (await RedeemAsync(hostProtocol, client, code, verifier)).Error);
    }

    [Fact]
    public async Task SecondUse_AfterTheCodeExpired_StillRevokesWhatTheFirstIssued()
    {
        // RFC 6749 §4.1.2: a code used more than once SHOULD revoke what it issued, however late the replay. The expiry
        // check came first: a code replayed after its 5 minutes got invalid_grant and its tokens lived on.
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostData = new TestData(host);
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var (client, user) = (await hostData.ClientAsync(grants: ["authorization_code", "refresh_token"], redirectUris: [RedirectUri], requireConsent: false), await hostData.UserAsync());
        var (code, verifier) = await IssueCodeAsync(host, client, user);
        var first = await RedeemAsync(hostProtocol, client, code, verifier);
        Assert.Equal(HttpStatusCode.OK, first.Status);

        time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        Assert.Equal("invalid_grant", (await RedeemAsync(hostProtocol, client, code, verifier)).Error);
        Assert.Equal(HttpStatusCode.Unauthorized, (await hostProtocol.UserInfoAsync(first.AccessToken!)).Status);
        Assert.Equal("invalid_grant", (await hostProtocol.RefreshAsync(client, first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task PublicClient_RedeemsWithClientIdAndVerifier()
    {
        var (client, user) = (await data.ClientAsync(grants: ["authorization_code"], isPublic: true, redirectUris: [RedirectUri], requireConsent: false), await data.UserAsync());
        // Without the refresh_token grant, offline_access is not the client's to ask for.
        var (code, verifier) = await CodeFlow.IssueCodeAsync(server, client, user, RedirectUri, scope: "openid profile");
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(protocol, client, code, verifier)).Status);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("a verifier of forty-three characters, spaced")]
    public async Task MalformedVerifier_IsInvalidRequest_EvenWhenItMatchesTheChallenge(string verifier)
    {
        // RFC 7636 §4.1: 43 to 128 unreserved characters; a short verifier is guessable, which PKCE exists to prevent.
        var (client, user) = (await CodeClientAsync(), await data.UserAsync());
        var http = await CodeFlow.SignedInAsync(server, user);
        var response = await http.GetAsync(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = RedirectUri, ["scope"] = "openid", ["state"] = "s",
            ["code_challenge"] = Challenge(verifier), ["code_challenge_method"] = "S256",
        }));
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(response.Headers.Location!.Query)["code"].ToString();

        var result = await RedeemAsync(protocol, client, code, verifier);

        Assert.Equal("invalid_request", result.Error);
        Assert.Contains("code_verifier", result.ErrorDescription);
        Assert.Null(result.AccessToken);
    }

    private Task<TestClient> CodeClientAsync() =>
        data.ClientAsync(grants: ["authorization_code", "refresh_token"], redirectUris: [RedirectUri], requireConsent: false);

    internal static string NewVerifier() => CodeFlow.NewVerifier();

    internal static string Challenge(string verifier) => CodeFlow.Challenge(verifier);

    private static Task<(string Code, string Verifier)> IssueCodeAsync(WebApplicationFactory<Program> host, TestClient client, TestUser user,
        string? nonce = null, bool withPkce = true) => CodeFlow.IssueCodeAsync(host, client, user, RedirectUri, nonce, withPkce);

    private static Task<TokenResult> RedeemAsync(ProtocolClient protocol, TestClient client, string code, string? verifier) =>
        protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
}
