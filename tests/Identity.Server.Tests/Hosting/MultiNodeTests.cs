using System.Net;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// Two server instances on one database, as behind a load balancer: everything that decides an answer (signing keys,
/// the Data Protection key ring, token rows, the outbox) is shared through the database.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MultiNodeTests(ServerFixture server) : IAsyncLifetime
{
    private ConfiguredServer nodeB = null!;

    public Task InitializeAsync()
    {
        nodeB = ConfiguredServer.OnPostgres(server.ConnectionString, new Dictionary<string, string?>
        {
            ["Identity:Scopes:0:Name"] = TestData.ApiScope,
            ["Identity:Scopes:0:Resources:0"] = TestData.ApiResource,
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = server.Mail.SmtpPort.ToString(),
            ["Email:Smtp:Security"] = "None",
            ["Jobs:Email:Interval"] = "00:00:00.100",
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await nodeB.DisposeAsync();

    [Fact]
    public async Task TokenFromA_RefreshesOnB_AndItsJwtValidatesOnB()
    {
        var (a, b) = (new ProtocolClient(server.CreateClient()), new ProtocolClient(nodeB.CreateClient()));
        var data = new TestData(server);
        var (client, api, user) = (await data.ClientAsync(), await data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true), await data.UserAsync());

        var fromA = await a.PasswordGrantAsync(client, user);
        var onB = await b.RefreshAsync(client, fromA.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, onB.Status);
        Assert.True((await b.IntrospectAsync(api, fromA.AccessToken!)).Json.GetProperty("active").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await b.UserInfoAsync(onB.AccessToken!)).Status);
        Assert.Equal(HttpStatusCode.OK, (await a.UserInfoAsync(onB.AccessToken!)).Status);
    }

    [Fact]
    public async Task RevocationOnA_IsHonouredByB_AtOnce()
    {
        var (a, b) = (new ProtocolClient(server.CreateClient()), new ProtocolClient(nodeB.CreateClient()));
        var data = new TestData(server);
        var (client, api, user) = (await data.ClientAsync(), await data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true), await data.UserAsync());
        var tokens = await a.PasswordGrantAsync(client, user);
        Assert.Equal(HttpStatusCode.OK, (await b.UserInfoAsync(tokens.AccessToken!)).Status);

        await a.RevokeAsync(client, tokens.RefreshToken!);

        Assert.Equal("""{"active":false}""", (await b.IntrospectAsync(api, tokens.AccessToken!)).Json.GetRawText());
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.UserInfoAsync(tokens.AccessToken!)).Status);
        Assert.Equal("invalid_grant", (await b.RefreshAsync(client, tokens.RefreshToken!)).Error);
    }

    [Fact]
    public async Task OutboxWithTwoDispatchingNodes_SendsEachMessageOnce()
    {
        _ = nodeB.Server; // node B's dispatch job is running too
        var api = new AccountApi(server.CreateClient(), server.Mail);
        var emails = Enumerable.Range(0, 5).Select(_ => AccountApi.NewEmail()).ToList();
        foreach (var email in emails) await api.RegisterAsync(email);

        foreach (var email in emails) await server.Mail.WaitForMessageAsync(email);
        await Task.Delay(1500);

        foreach (var email in emails) Assert.Equal(1, await api.CountMessagesAsync(email));
    }
}
