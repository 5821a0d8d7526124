using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Server.Tests.Protocol.Token;

[Collection(ServerCollection.Name)]
public sealed class RefreshTokenGrantTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task Refresh_RotatesTheRefreshToken()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);

        var second = await protocol.RefreshAsync(client, first.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.NotNull(second.RefreshToken);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.NotNull(second.IdToken);
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(client, second.RefreshToken!)).Status);
    }

    [Theory]
    [InlineData("jwt")]
    [InlineData("reference")]
    public async Task RetryInsideTheLeeway_ReturnsTheVerySameSuccessor(string format)
    {
        var (client, user) = (await data.ClientAsync(format: format), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);

        var second = await protocol.RefreshAsync(client, first.RefreshToken!);
        var retry = await protocol.RefreshAsync(client, first.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.Equal(second.RefreshToken, retry.RefreshToken);
        Assert.Equal(second.AccessToken, retry.AccessToken);
        Assert.Equal(second.IdToken, retry.IdToken);
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(client, second.RefreshToken!)).Status);
    }

    [Theory]
    [InlineData("jwt")]
    [InlineData("reference")]
    public async Task RetryInsideTheLeeway_AfterTheSuccessorsAccessTokenWasRevoked_IsInvalidGrant(string format)
    {
        // The retry was answered 200 with the very access token revocation had killed (audit a13 F3).
        var (client, user) = (await data.ClientAsync(format: format), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        var second = await protocol.RefreshAsync(client, first.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, (await protocol.RevokeAsync(client, second.AccessToken!)).Status);

        var retry = await protocol.RefreshAsync(client, first.RefreshToken!);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (retry.Status, retry.Error));
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(client, second.RefreshToken!)).Status);
    }

    [Fact]
    public async Task TwentyConcurrentUses_ProduceExactlyOneSuccessor()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => protocol.RefreshAsync(client, first.RefreshToken!)));

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Single(results.Select(r => r.RefreshToken).Distinct());
        Assert.Single(results.Select(r => r.AccessToken).Distinct());
        var rows = await data.TokensAsync(user.Id);
        Assert.Equal(2, rows.Count(r => r.Type == TokenRow.RefreshToken));
        Assert.Equal(2, rows.Count(r => r.Type == TokenRow.AccessToken));
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(client, results[0].RefreshToken!)).Status);
    }

    [Fact]
    public async Task ReuseAfterTheLeeway_RevokesTheWholeAuthorization()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var (hostData, hostProtocol) = Use(host);
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());
        var first = await hostProtocol.PasswordGrantAsync(client, user);
        var second = await hostProtocol.RefreshAsync(client, first.RefreshToken!);
        var third = await hostProtocol.RefreshAsync(client, second.RefreshToken!);

        time.Advance(TimeSpan.FromSeconds(11));
        var reuse = await hostProtocol.RefreshAsync(client, first.RefreshToken!);

        Assert.Equal("invalid_grant", reuse.Error);
        Assert.Equal("invalid_grant", (await hostProtocol.RefreshAsync(client, third.RefreshToken!)).Error);
        var rows = await hostData.TokensAsync(user.Id);
        Assert.All(rows, r => Assert.Equal(TokenRow.Revoked, r.Status));
        Assert.Equal(6, rows.Count); // three access tokens and three refresh tokens, the newest included
    }

    [Fact]
    public async Task RetryJustInsideTheLeeway_IsStillTheSameSuccessor()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var (hostData, hostProtocol) = Use(host);
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());
        var first = await hostProtocol.PasswordGrantAsync(client, user);
        var second = await hostProtocol.RefreshAsync(client, first.RefreshToken!);

        time.Advance(TimeSpan.FromSeconds(9));
        var retry = await hostProtocol.RefreshAsync(client, first.RefreshToken!);

        Assert.Equal(second.RefreshToken, retry.RefreshToken);
        Assert.Equal(second.AccessToken, retry.AccessToken);
    }

    [Fact]
    public async Task SlidingLifetime_ExpiresAnUnusedToken()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var (hostData, hostProtocol) = Use(host);
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());
        var first = await hostProtocol.PasswordGrantAsync(client, user);

        time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));

        Assert.Equal("invalid_grant", (await hostProtocol.RefreshAsync(client, first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task AbsoluteLifetime_EndsTheFamilyEvenWhenUsedDaily()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var (hostData, hostProtocol) = Use(host);
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());
        var token = (await hostProtocol.PasswordGrantAsync(client, user)).RefreshToken!;

        for (var day = 0; day < 29; day++)
        {
            time.Advance(TimeSpan.FromDays(1));
            var refreshed = await hostProtocol.RefreshAsync(client, token);
            Assert.Equal(HttpStatusCode.OK, refreshed.Status);
            token = refreshed.RefreshToken!;
        }
        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        Assert.Equal("invalid_grant", (await hostProtocol.RefreshAsync(client, token)).Error);
    }

    [Fact]
    public async Task LockedOutUser_CannotRefresh()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        await data.LockOutAsync(user);

        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task DeletedUser_CannotRefresh()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        await data.DeleteUserAsync(user);

        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task UnconfirmedUser_CannotRefresh()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        await data.UsersAsync(async users =>
        {
            var entity = (await users.FindByIdAsync(user.Id))!;
            entity.EmailConfirmed = false;
            await users.UpdateAsync(entity);
        });

        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task AnotherClientsRefreshToken_IsInvalidGrant_AndChangesNothing()
    {
        var (owner, thief, user) = (await data.ClientAsync(), await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(owner, user);

        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(thief, first.RefreshToken!)).Error);
        Assert.Equal(HttpStatusCode.OK, (await protocol.RefreshAsync(owner, first.RefreshToken!)).Status);
    }

    [Fact]
    public async Task UnknownRefreshToken_IsInvalidGrant()
    {
        var client = await data.ClientAsync();
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, "not-a-token")).Error);
    }

    [Fact]
    public async Task NarrowerScope_IsGranted_WiderScope_IsInvalidScope()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user, "openid profile offline_access");

        var wider = await protocol.RefreshAsync(client, first.RefreshToken!, "openid email offline_access");
        var narrower = await protocol.RefreshAsync(client, first.RefreshToken!, "profile");

        Assert.Equal("invalid_scope", wider.Error);
        Assert.Equal("profile", narrower.Scope);
        Assert.NotNull(narrower.RefreshToken); // the new refresh token keeps the original scope (RFC 6749 §6)
        Assert.Equal("openid profile offline_access", (await protocol.RefreshAsync(client, narrower.RefreshToken!)).Scope);
    }

    [Fact]
    public async Task NarrowerScope_NarrowsTheAccessTokensAudience_AndTheRefreshTokenKeepsItsOwn()
    {
        // RFC 9700 §2.3: a token for api1 alone was still addressed to this server too, and accepted by its account API.
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user, $"openid offline_access {TestData.ApiScope}");

        var apiOnly = await protocol.RefreshAsync(client, first.RefreshToken!, TestData.ApiScope);
        var openIdOnly = await protocol.RefreshAsync(client, apiOnly.RefreshToken!, "openid");
        var all = await protocol.RefreshAsync(client, openIdOnly.RefreshToken!);

        Assert.Equal([TestData.ApiResource], new JsonWebToken(apiOnly.AccessToken).Audiences);
        Assert.Equal(["https://localhost/"], new JsonWebToken(openIdOnly.AccessToken).Audiences);
        Assert.Equal([TestData.ApiResource, "https://localhost/"], new JsonWebToken(all.AccessToken).Audiences.Order());
    }

    [Fact]
    public async Task NarrowerScopeWithoutOpenId_GetsNoIdToken()
    {
        // SPEC §2: an id_token when openid was granted; the answer's scope says it was not this time (OIDC Core §12.2).
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user, "openid profile offline_access");

        var narrower = await protocol.RefreshAsync(client, first.RefreshToken!, "profile offline_access");
        var again = await protocol.RefreshAsync(client, narrower.RefreshToken!, "openid offline_access");

        Assert.Equal(HttpStatusCode.OK, narrower.Status);
        Assert.Equal("profile offline_access", narrower.Scope);
        Assert.Null(narrower.IdToken);
        Assert.NotNull(again.IdToken); // the refresh token kept openid
    }

    [Fact]
    public async Task Refresh_ReadsThePersonsRolesAgain()
    {
        // A refresh signs the person in afresh from the user store (SPEC §2): a role given since the first grant is in
        // the new ID token, and the one held before stays.
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await data.GiveRoleAsync(user, "tester");
        var first = await protocol.PasswordGrantAsync(client, user, "openid roles offline_access");
        await data.GiveRoleAsync(user, "auditor");

        var second = await protocol.RefreshAsync(client, first.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(["tester"], RolesIn(first.IdToken!));
        Assert.Equal(["auditor", "tester"], RolesIn(second.IdToken!).Order());
    }

    private static IEnumerable<string?> RolesIn(string idToken) =>
        new JsonWebToken(idToken).GetPayloadValue<System.Text.Json.JsonElement>("role").EnumerateArray().Select(r => r.GetString());

    private static (TestData, ProtocolClient) Use(WebApplicationFactory<Program> host) =>
        (new TestData(host), new ProtocolClient(host.HttpsClient()));
}
