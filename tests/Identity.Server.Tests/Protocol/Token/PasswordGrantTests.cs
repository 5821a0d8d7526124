using System.Buffers.Binary;
using System.Net;
using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Server.Tests.Protocol.Token;

[Collection(ServerCollection.Name)]
public sealed class PasswordGrantTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task ValidCredentials_IssueAccessRefreshAndIdTokens()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        var result = await protocol.PasswordGrantAsync(client, user, "openid profile offline_access");

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("Bearer", result.Field("token_type"));
        Assert.Equal(900, result.Json.GetProperty("expires_in").GetInt32());
        Assert.Equal("openid profile offline_access", result.Scope);
        Assert.NotNull(result.RefreshToken);
        Assert.True(result.RefreshToken!.Length >= 43, "refresh tokens carry at least 256 bits");
        var access = new JsonWebToken(result.AccessToken);
        Assert.Equal(user.Id, access.Subject);
        var id = new JsonWebToken(result.IdToken);
        Assert.Equal(user.Id, id.Subject);
        Assert.Equal(client.ClientId, id.Audiences.Single());
        Assert.True(id.TryGetPayloadValue<string>("at_hash", out _));
    }

    [Fact]
    public async Task EachClaim_GoesOnlyIntoTheTokensItsScopeAllows()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await data.GiveRoleAsync(user, "user");
        string[] personal = ["name", "updated_at", "email", "email_verified", "role"];

        var bare = await protocol.PasswordGrantAsync(client, user, "openid");
        var (access, id) = (new JsonWebToken(bare.AccessToken), new JsonWebToken(bare.IdToken));
        Assert.Equal(user.Id, access.Subject);
        // RFC 7662 "username" comes from the access token, whatever the scope.
        Assert.True(access.TryGetPayloadValue<string>("preferred_username", out _));
        Assert.Equal(user.Id, id.Subject);
        Assert.True(id.TryGetPayloadValue<long>("auth_time", out _) && id.TryGetPayloadValue<string>("sid", out _));
        foreach (var claim in personal.Append("preferred_username"))
            Assert.False(id.TryGetPayloadValue<object>(claim, out _), $"{claim} in the id_token without its scope");
        foreach (var claim in personal)
            Assert.False(access.TryGetPayloadValue<object>(claim, out _), $"{claim} in the access token");

        var full = await protocol.PasswordGrantAsync(client, user, "openid profile email roles");
        (access, id) = (new JsonWebToken(full.AccessToken), new JsonWebToken(full.IdToken));
        foreach (var claim in personal.Append("preferred_username"))
            Assert.True(id.TryGetPayloadValue<object>(claim, out _), $"{claim} missing from the id_token");
        foreach (var claim in personal)
            Assert.False(access.TryGetPayloadValue<object>(claim, out _), $"{claim} in the access token");
        Assert.True(access.TryGetPayloadValue<string>("sid", out _) && access.TryGetPayloadValue<long>("auth_time", out _));
    }

    [Fact]
    public async Task WithoutOfflineAccess_NoRefreshToken_AndWithoutOpenId_NoIdToken()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var result = await protocol.PasswordGrantAsync(client, user, "profile");
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Null(result.RefreshToken);
        Assert.Null(result.IdToken);
    }

    [Fact]
    public async Task EmailAsUserName_SignsIn()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var result = await protocol.PasswordGrantAsync(client, user with { UserName = user.Email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.OK, result.Status);
    }

    [Fact]
    public async Task UserNameOrEmail_WithSpacesAround_SignsIn()
    {
        // A phone keyboard adds a space after an address it completed; no account's name or address has one at either end.
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user with { UserName = user.Email + " " })).Status);
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user with { UserName = $" {user.UserName}\u00a0" })).Status);
    }

    [Fact]
    public async Task PublicClient_SignsInWithClientIdOnly()
    {
        var (client, user) = (await data.ClientAsync(isPublic: true), await data.UserAsync());
        var result = await protocol.PasswordGrantAsync(client, user);
        Assert.Equal(HttpStatusCode.OK, result.Status);
    }

    [Fact]
    public async Task WrongPasswordAndUnknownUser_AnswerTheSame()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        var wrongPassword = await protocol.PasswordGrantAsync(client, user with { Password = "not the password" });
        var unknownUser = await protocol.PasswordGrantAsync(client, user with { UserName = "nobody" + Guid.NewGuid().ToString("N") });

        Assert.Equal(HttpStatusCode.BadRequest, wrongPassword.Status);
        Assert.Equal("invalid_grant", wrongPassword.Error);
        Assert.Equal(wrongPassword.Status, unknownUser.Status);
        Assert.Equal(wrongPassword.Json.GetRawText(), unknownUser.Json.GetRawText());
    }

    [Fact]
    public async Task FiveFailures_LockTheAccount_RevealedOnlyWithTheRightPassword()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        for (var i = 0; i < 5; i++)
            Assert.Equal("invalid_grant", (await protocol.PasswordGrantAsync(client, user with { Password = "wrong" + i })).Error);

        var rightPassword = await protocol.PasswordGrantAsync(client, user);
        var wrongPassword = await protocol.PasswordGrantAsync(client, user with { Password = "still wrong" });

        Assert.Equal("invalid_grant", rightPassword.Error);
        Assert.Contains("locked", rightPassword.ErrorDescription, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("invalid_grant", wrongPassword.Error);
        Assert.DoesNotContain("locked", wrongPassword.ErrorDescription, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task LockoutEnds_AfterItsDuration()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostData = new TestData(host);
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());
        await hostData.UsersAsync(async users =>
        {
            var entity = await users.FindByIdAsync(user.Id);
            await users.SetLockoutEndDateAsync(entity!, time.GetUtcNow().AddMinutes(15));
        });
        Assert.Equal("invalid_grant", (await hostProtocol.PasswordGrantAsync(client, user)).Error);

        time.Advance(TimeSpan.FromMinutes(16));

        Assert.Equal(HttpStatusCode.OK, (await hostProtocol.PasswordGrantAsync(client, user)).Status);
    }

    [Fact]
    public async Task UnconfirmedEmail_RevealedOnlyWithTheRightPassword()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync(emailConfirmed: false));

        var rightPassword = await protocol.PasswordGrantAsync(client, user);
        var wrongPassword = await protocol.PasswordGrantAsync(client, user with { Password = "wrong password" });

        Assert.Equal("invalid_grant", rightPassword.Error);
        Assert.Contains("confirmed", rightPassword.ErrorDescription);
        Assert.Equal("invalid_grant", wrongPassword.Error);
        Assert.DoesNotContain("confirmed", wrongPassword.ErrorDescription);
    }

    [Fact]
    public async Task ScopeOutsideTheClientsAllowedSet_IsInvalidScope()
    {
        var (client, user) = (await data.ClientAsync(scopes: ["openid"]), await data.UserAsync());
        var notAllowed = await protocol.PasswordGrantAsync(client, user, "openid email");
        var unknown = await protocol.PasswordGrantAsync(client, user, "openid made-up");
        Assert.Equal("invalid_scope", notAllowed.Error);
        Assert.Equal("invalid_scope", unknown.Error);
    }

    [Fact]
    public async Task OfflineAccess_ForAClientWithoutRefreshTokens_IsInvalidScope()
    {
        // OpenIddict answered invalid_request ("not allowed to use the offline_access scope") before the scope check.
        var (client, user) = (await data.ClientAsync(grants: ["password"], scopes: ["openid"]), await data.UserAsync());

        var result = await protocol.PasswordGrantAsync(client, user, "openid offline_access");

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_scope", result.Error);
        Assert.Null(result.AccessToken);
    }

    [Fact]
    public async Task OfflineAccess_AllowedToAClientWithoutTheRefreshTokenGrant_IsInvalidScope()
    {
        // The scope is listed, but the grant that would use it is not: still not a scope the client can have.
        var (client, user) = (await data.ClientAsync(grants: ["password"], scopes: ["openid", "offline_access"]), await data.UserAsync());

        var asked = await protocol.PasswordGrantAsync(client, user, "openid offline_access");
        var omitted = await protocol.PasswordGrantAsync(client, user, scope: null);

        Assert.Equal("invalid_scope", asked.Error);
        Assert.Equal(HttpStatusCode.OK, omitted.Status);
        Assert.Equal("openid", omitted.Scope);
        Assert.Null(omitted.RefreshToken);
    }

    [Fact]
    public async Task OmittedScope_GrantsTheClientsAllowedScopes()
    {
        var (client, user) = (await data.ClientAsync(scopes: ["openid", "offline_access"]), await data.UserAsync());
        var result = await protocol.PasswordGrantAsync(client, user, scope: null);
        Assert.Equal("openid offline_access", result.Scope);
    }

    [Fact]
    public async Task MissingPassword_IsInvalidRequest()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "password"), ("username", user.UserName)));
        Assert.Equal("invalid_request", result.Error);
    }

    [Fact]
    public async Task TooManyAttemptsForOneUserName_Are429WithRetryAfter()
    {
        await using var host = server.WithSettings(new Dictionary<string, string?> { ["Identity:RateLimits:PasswordGrant:PerUserNamePerMinute"] = "3" });
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var hostData = new TestData(host);
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());

        for (var i = 0; i < 3; i++) await hostProtocol.PasswordGrantAsync(client, user with { Password = "wrong" });
        var limited = await hostProtocol.PasswordGrantAsync(client, user);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.NotNull(limited.Response.Headers.RetryAfter);
        Assert.NotNull(limited.Error);
    }

    [Fact]
    public async Task SpacesAroundTheUserName_CountAgainstItsOwnLimit()
    {
        // Sign-in trims the user name, so each spelling with spaces is the same account: not a fresh window of guesses.
        await using var host = server.WithSettings(new Dictionary<string, string?> { ["Identity:RateLimits:PasswordGrant:PerUserNamePerMinute"] = "3" });
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var hostData = new TestData(host);
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());

        foreach (var spelling in new[] { user.UserName, $" {user.UserName}", $"{user.UserName}  " })
            Assert.Equal("invalid_grant", (await hostProtocol.PasswordGrantAsync(client, user with { UserName = spelling, Password = "wrong" })).Error);
        var limited = await hostProtocol.PasswordGrantAsync(client, user with { UserName = $"{user.UserName} " });

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
    }

    [Fact]
    public async Task OneAddressPastItsLimit_LeavesThePublicClientToEveryoneElse()
    {
        // Scaled down: the client's budget is 5, an address's 3.
        await using var host = server.WithSettings(new Dictionary<string, string?>
        {
            ["Identity:RateLimits:PasswordGrant:PerClientPerMinute"] = "5",
            ["Identity:RateLimits:PasswordGrant:PerAddressPerMinute"] = "3",
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        });
        var hostData = new TestData(host);
        var (client, user) = (await hostData.ClientAsync(isPublic: true), await hostData.UserAsync());
        var attacker = new ProtocolClient(host.HttpsClientFrom("203.0.113.9"));

        var flood = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
            flood.Add((await attacker.PasswordGrantAsync(client, new TestUser("", $"nobody{i}", "", "wrong"))).Status);

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.BadRequest, 3), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 7)], flood);
        Assert.Equal(HttpStatusCode.OK, (await new ProtocolClient(host.HttpsClientFrom("198.51.100.4")).PasswordGrantAsync(client, user)).Status);
    }

    [Fact]
    public async Task NewHashes_UsePbkdf2Sha512With210000Iterations()
    {
        var user = await data.UserAsync();
        var (prf, iterations) = await HashParametersAsync(user.Id);
        Assert.Equal(2u, prf); // KeyDerivationPrf.HMACSHA512
        Assert.Equal(210_000u, iterations);
    }

    [Fact]
    public async Task OlderHash_IsUpgradedAtTheNextSignIn()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var weak = new PasswordHasher<ApplicationUser>(Options.Create(new PasswordHasherOptions { IterationCount = 100_000 }));
        await data.UsersAsync(async users =>
        {
            var entity = (await users.FindByIdAsync(user.Id))!;
            entity.PasswordHash = weak.HashPassword(entity, user.Password);
            await users.UpdateAsync(entity);
        });
        Assert.Equal(100_000u, (await HashParametersAsync(user.Id)).Iterations);

        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);

        Assert.Equal(210_000u, (await HashParametersAsync(user.Id)).Iterations);
    }

    /// <summary>ASP.NET Core Identity's V3 format: 0x01, PRF, iteration count, salt length (big-endian uint32s), salt, subkey.</summary>
    private async Task<(uint Prf, uint Iterations)> HashParametersAsync(string userId)
    {
        string? hash = null;
        await data.UsersAsync(async users => hash = (await users.FindByIdAsync(userId))!.PasswordHash);
        var bytes = Convert.FromBase64String(hash!);
        Assert.Equal(0x01, bytes[0]);
        return (BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1)), BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(5)));
    }
}
