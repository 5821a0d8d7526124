using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Identity.Server.Tests.Protocol.Transport;

/// <summary>
/// OpenIddict's per-request Information lines are off by default (they cost a fifth of an introspection and carry a
/// request's user name and a response's claims); the refusals OpenIddict decides are logged by the server instead,
/// once each, and the ones our endpoints decide only where they are decided.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RefusalLogTests(ServerFixture server)
{
    private const int TokenRequestRejected = 2001, RequestRefused = 2008;

    [Fact]
    public void OpenIddictsOwnLog_StartsAtWarning_ByDefault()
    {
        var rules = server.Services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value.Rules;
        var rule = Assert.Single(rules, r => r.CategoryName == "OpenIddict" && r.ProviderName is null);
        Assert.Equal(LogLevel.Warning, rule.LogLevel);
    }

    [Fact]
    public async Task RefusalsOpenIddictDecides_AreLoggedOnce_WithoutTheSecret_AndSuccessesAreNot()
    {
        var log = new LogRecorder();
        await using var host = server.WithWebHostBuilder(log.For("refusals"));
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var client = await data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true);
        var token = (await protocol.ClientCredentialsAsync(client)).AccessToken!;
        Assert.True((await protocol.IntrospectAsync(client, token)).Json.GetProperty("active").GetBoolean());
        Assert.DoesNotContain(log.Entries, e => e.EventId.Id == RequestRefused);

        var wrongSecret = $"wrong-{Guid.NewGuid():N}";
        var refused = await protocol.ClientCredentialsAsync(client with { Secret = wrongSecret });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        var missing = await protocol.TokenAsync(client, ProtocolClient.Form(("token", null)), "/connect/introspect");
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        var huge = await protocol.ClientCredentialsAsync(new TestClient(new string('x', 10_000), null));
        Assert.True(huge.Status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized);

        var entries = log.Entries.Where(e => e.EventId.Id == RequestRefused).ToList();
        Assert.Collection(entries,
            e => Assert.Equal(("Token", client.ClientId, "invalid_client"), (e.State["Endpoint"], e.State["ClientId"], e.State["Error"])),
            e => Assert.Equal(("Introspection", client.ClientId, "invalid_request"), (e.State["Endpoint"], e.State["ClientId"], e.State["Error"])),
            e => Assert.Equal(new string('x', 100) + "…", e.State["ClientId"]));
        Assert.DoesNotContain(log.Entries, e => e.State.Values.Any(v => v?.ToString()?.Contains(wrongSecret, StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task ARefusalOurGrantDecides_IsLoggedWhereItIsDecided_Only()
    {
        var log = new LogRecorder();
        await using var host = server.WithWebHostBuilder(log.For("grant"));
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        var refused = await protocol.PasswordGrantAsync(client, user with { Password = "not the password" });

        Assert.Equal("invalid_grant", refused.Error);
        Assert.Single(log.Entries, e => e.EventId.Id == TokenRequestRejected);
        Assert.DoesNotContain(log.Entries, e => e.EventId.Id == RequestRefused);
    }
}
