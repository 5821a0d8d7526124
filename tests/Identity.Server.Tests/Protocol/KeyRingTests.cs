using System.Security.Cryptography;
using Identity.Server.Protocol.Keys;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol;

/// <summary>The keys OpenIddict signs and encrypts with: created once in the shared database, protected there.</summary>
[Collection(ServerCollection.Name)]
public sealed class KeyRingTests(ServerFixture server)
{
    [Fact]
    public async Task TwoNodesStartingAtOnce_EndUpWithOneKeySet()
    {
        var database = await server.Postgres.CreateDatabaseAsync("keys_race");
        var settings = new Dictionary<string, string?> { ["Identity:Tokens:SigningAlgorithm"] = "ES256" };
        await using var a = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings);
        await using var b = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings);

        await Task.WhenAll(Task.Run(() => a.Server), Task.Run(() => b.Server));

        var keys = await new TestData(a).DbAsync(db => db.ProtocolKeys.AsNoTracking().ToListAsync());
        // One per series: ES256 for access tokens, RS256 for id_tokens, the AES key the seals' keys derive from.
        Assert.Equal(["A256KW", "ES256", "RS256"], keys.Select(k => k.Algorithm).Order());
        var fromA = await PublishedKeyIdsAsync(a);
        Assert.Equal(fromA, await PublishedKeyIdsAsync(b));
        Assert.Equal(2, fromA.Count);
    }

    [Fact]
    public async Task PrivateParts_AreProtected_NotStoredInClear()
    {
        var keys = await new TestData(server).DbAsync(db => db.ProtocolKeys.AsNoTracking().ToListAsync());

        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            var stored = Convert.FromBase64String(key.ProtectedKey);
            // A Data Protection payload begins with its magic header; raw PKCS #8 or an AES key would not import.
            Assert.Equal(new byte[] { 0x09, 0xF0, 0xC9, 0xF0 }, stored[..4]);
            Assert.ThrowsAny<CryptographicException>(() => RSA.Create().ImportPkcs8PrivateKey(stored, out _));
            Assert.ThrowsAny<CryptographicException>(() => ECDsa.Create().ImportPkcs8PrivateKey(stored, out _));
        }
    }

    [Fact]
    public async Task AccessToken_IsSignedWithAKeyOfTheRing()
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        var token = new JsonWebToken((await new ProtocolClient(server.CreateClient()).ClientCredentialsAsync(client)).AccessToken);

        var keys = await new TestData(server).DbAsync(db => db.ProtocolKeys.AsNoTracking().Where(k => k.Use == KeyUses.Signing).ToListAsync());
        Assert.Contains(token.Kid, keys.Select(k => k.Id));
    }

    [Fact]
    public async Task RefreshToken_IsSealedDirectly_AndSignedWithTheHmacKeyDerivedFromTheSeal_NotAnRsaKey()
    {
        var data = new TestData(server);
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        Assert.NotNull((await new ProtocolClient(server.CreateClient()).PasswordGrantAsync(client, user)).RefreshToken);
        var refreshToken = await StoredRefreshTokenAsync(data, user);
        var keys = server.Services.GetRequiredService<KeyRing>().Current!;
        var handler = new JsonWebTokenHandler();
        TokenValidationParameters Verifying(IEnumerable<SecurityKey> signing) => new()
        {
            TokenDecryptionKeys = keys.SealEncryption.Select(e => e.Key),
            IssuerSigningKeys = signing,
            ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false,
            ValidTypes = ["oi_reft+jwt"],
        };

        var sealedWithHmac = await handler.ValidateTokenAsync(refreshToken, Verifying(keys.SealSigningKeys));
        var withRsaKeysOnly = await handler.ValidateTokenAsync(refreshToken, Verifying(keys.Signing.Select(s => s.Key)));

        Assert.True(sealedWithHmac.IsValid, sealedWithHmac.Exception?.Message);
        var outer = new JsonWebToken(refreshToken);
        // Encrypted with the derived key itself: no content key of its own to wrap and unwrap.
        Assert.Equal(("dir", "A256CBC-HS512", keys.ActiveSealEncryption.Key.KeyId), (outer.Alg, outer.Enc, outer.Kid));
        Assert.Empty(outer.EncryptedKey);
        var inner = (JsonWebToken)sealedWithHmac.SecurityToken;
        Assert.Equal("HS256", inner.InnerToken?.Alg ?? inner.Alg);
        Assert.False(withRsaKeysOnly.IsValid);
        // The published keys stay public keys only: the derived keys never reach discovery or JWKS.
        var jwks = await server.CreateClient().GetStringAsync("/.well-known/jwks");
        Assert.DoesNotContain("\"oct\"", jwks);
        Assert.DoesNotContain(keys.SealSigningKeys[0].KeyId, jwks);
        Assert.DoesNotContain(keys.ActiveSealEncryption.Key.KeyId, jwks);
    }

    [Fact]
    public async Task RefreshToken_SealedUnderTheStoredKeyWithAKeyWrap_AsBeforeDirectSealing_StillRedeems()
    {
        var data = new TestData(server);
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var protocol = new ProtocolClient(server.CreateClient());
        var issued = await protocol.PasswordGrantAsync(client, user);
        var keys = server.Services.GetRequiredService<KeyRing>().Current!;
        var handler = new JsonWebTokenHandler();
        var sealedDirectly = new JsonWebToken(await StoredRefreshTokenAsync(data, user));
        var jws = handler.DecryptToken(sealedDirectly,
            new TokenValidationParameters { TokenDecryptionKeys = keys.SealEncryption.Select(e => e.Key) });
        // What a refresh token issued before the change holds: the same JWS, under A256KW with the stored key.
        var wrapped = handler.EncryptToken(jws, keys.ActiveEncryption);
        Assert.Equal("A256KW", new JsonWebToken(wrapped).Alg);
        await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>()
            .Where(t => t.Subject == user.Id && t.Type == OpenIddictConstants.TokenTypeIdentifiers.RefreshToken)
            .ExecuteUpdateAsync(t => t.SetProperty(row => row.Payload, wrapped)));

        var refreshed = await protocol.RefreshAsync(client, issued.RefreshToken!);

        Assert.Equal(System.Net.HttpStatusCode.OK, refreshed.Status);
        Assert.NotNull(refreshed.RefreshToken);
    }

    private static Task<string?> StoredRefreshTokenAsync(TestData data, TestUser user) =>
        // The client holds a reference; the sealed token is the row's payload.
        data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking()
            .Where(t => t.Subject == user.Id && t.Type == OpenIddictConstants.TokenTypeIdentifiers.RefreshToken).Select(t => t.Payload).SingleAsync());

    [Fact]
    public async Task AKeyThisNodeCannotRead_LeavesTheKeysItHasInUse_AndReadinessSaysSo()
    {
        // A node started with another Data Protection certificate writes keys protected under a ring key the others
        // cannot read (until they reload their ring, a day later): every token request on them answered 500 meanwhile.
        var database = await server.Postgres.CreateDatabaseAsync("keys_unreadable");
        var time = new TestTimeProvider();
        await using var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        await using var host = node.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(time)));
        var data = new TestData(host);
        var protocol = new ProtocolClient(host.HttpsClient());
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: []);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(client)).Status);
        var now = time.GetUtcNow();
        await data.DbAsync(db =>
        {
            db.ProtocolKeys.Add(new ProtocolKey
            {
                Id = "unreadable", Use = KeyUses.Signing, Algorithm = SecurityAlgorithms.RsaSha256,
                ProtectedKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(300)),
                CreatedAt = now, ActivatesAt = now, RetiresAt = now.AddDays(90), ExpiresAt = now.AddDays(200),
            });
            return db.SaveChangesAsync();
        });

        time.Advance(TimeSpan.FromMinutes(6)); // past the reload interval

        var token = await protocol.ClientCredentialsAsync(client);
        Assert.Equal(System.Net.HttpStatusCode.OK, token.Status);
        Assert.NotEqual("unreadable", new JsonWebToken(token.AccessToken).Kid);
        var ready = await host.HttpsClient().GetAsync("/health/ready");
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        var keys = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("keys");
        Assert.Equal("Degraded", keys.GetProperty("status").GetString());
    }

    [Fact]
    public async Task KeyCreatedActiveAtOnceOnOneNode_IsKnownToTheOtherNodesAtOnce()
    {
        // A node restarted with ES256 creates its ES256 key active at once and signs access tokens with it; another node,
        // its ring fresh for 5 minutes, answered them userinfo 401 and introspection active:false until its next reload.
        var database = await server.Postgres.CreateDatabaseAsync("keys_notice");
        await using var b = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        var data = new TestData(b);
        var (client, api, user) = (await data.ClientAsync(scopes: ["openid", "offline_access"]),
            await data.ClientAsync(grants: ["client_credentials"], scopes: [], allowIntrospection: true), await data.UserAsync());
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(b.Services.GetRequiredService<KeyRingChanges>().IsListening),
            50, TimeSpan.FromMilliseconds(100)));

        await using var a = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database),
            new Dictionary<string, string?> { ["Identity:Tokens:SigningAlgorithm"] = "ES256" });
        var tokens = await new ProtocolClient(a.CreateClient()).PasswordGrantAsync(client, user);

        Assert.Equal("ES256", new JsonWebToken(tokens.AccessToken).Alg);
        var onB = new ProtocolClient(b.CreateClient());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await onB.UserInfoAsync(tokens.AccessToken!)).Status);
        Assert.True((await onB.IntrospectAsync(api, tokens.AccessToken!)).Json.GetProperty("active").GetBoolean());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await onB.RefreshAsync(client, tokens.RefreshToken!)).Status);
    }

    [Fact]
    public async Task FirstRequestAfterTheRingIsDue_IsAnsweredWithTheReloadedRing()
    {
        // The request that found the ring due reloaded it inside OpenIddict's pipeline, after OpenIddict had taken its
        // options for that request: it was answered with the old keys, here a JWKS without the successor just published.
        var database = await server.Postgres.CreateDatabaseAsync("keys_due");
        var time = new TestTimeProvider();
        await using var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        await using var host = node.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(time)));
        Assert.Single(await PublishedKeyIdsAsync(host));

        time.Advance(TimeSpan.FromDays(89)); // within SigningKeyPublishAhead (2 days) of the key's retirement (90 days)

        Assert.Equal(2, (await PublishedKeyIdsAsync(host)).Count);
    }

    [Fact]
    public async Task RequestsThatDoNotUseTheKeys_DoNotWaitForTheirReload()
    {
        // A liveness probe, a page or the metrics waiting for a due reload: with the database down, each would wait out
        // the connection timeout, and an orchestrator restart a node that had only lost its database.
        var database = await server.Postgres.CreateDatabaseAsync("keys_due_probe");
        var time = new TestTimeProvider();
        await using var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        await using var host = node.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(time)));
        Assert.Single(await PublishedKeyIdsAsync(host));
        time.Advance(TimeSpan.FromDays(89));

        foreach (var path in new[] { "/health/live", "/account/login" })
            Assert.Equal(System.Net.HttpStatusCode.OK, (await host.CreateClient().GetAsync(path)).StatusCode);

        Assert.True(host.Services.GetRequiredService<KeyRingLoader>().IsStale);
        Assert.Equal(2, (await PublishedKeyIdsAsync(host)).Count);
    }

    private static async Task<List<string>> PublishedKeyIdsAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> host)
    {
        var jwks = System.Text.Json.JsonDocument.Parse(await host.CreateClient().GetStringAsync("/.well-known/jwks")).RootElement;
        return jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).Order().ToList();
    }
}
