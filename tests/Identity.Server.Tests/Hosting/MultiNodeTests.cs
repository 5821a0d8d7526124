using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// Two server instances on one database, as behind a load balancer: everything that decides an answer (signing keys,
/// the Data Protection key ring, token rows, the outbox) is shared through the database. Both nodes are given the same
/// certificate (as every test host is), which is what lets each read the key ring the other encrypted.
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

    [Fact]
    public async Task NodesWithTheSameCertificate_ReadWhatEachOtherProtected()
    {
        var (a, b) = (Protector(server), Protector(nodeB));

        Assert.Equal("from A", b.Unprotect(a.Protect("from A")));
        Assert.Equal("from B", a.Unprotect(b.Protect("from B")));
        Assert.Equal(await (await server.CreateClient().GetAsync("/.well-known/jwks")).Content.ReadAsStringAsync(),
            await (await nodeB.CreateClient().GetAsync("/.well-known/jwks")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NodeWithoutTheCertificate_CannotReadTheKeys()
    {
        await OnFreshDatabaseAsync(async connectionString =>
        {
            await using (var first = ConfiguredServer.OnPostgres(connectionString))
                Assert.Equal(HttpStatusCode.OK, (await first.CreateClient().GetAsync("/health/ready")).StatusCode);

            // Told to accept unprotected keys, but the ring's keys are encrypted: the signing key cannot be unprotected.
            await using var stranger = ConfiguredServer.OnPostgres(connectionString,
                new Dictionary<string, string?> { ["DataProtection:AllowUnprotectedKeys"] = "true" });
            StartUpFailure.Of(stranger);
        });
    }

    [Fact]
    public async Task RolledCertificate_ReadsTheOldKeys_WhileThePreviousOneIsKept()
    {
        var (old, rolled) = (KeyRingCertificates.Create("old"), KeyRingCertificates.Create("rolled"));
        await OnFreshDatabaseAsync(async connectionString =>
        {
            string secret;
            await using (var before = ConfiguredServer.OnPostgres(connectionString, old.Settings()))
                secret = Protector(before).Protect("protected under the old certificate");

            await using (var onlyNew = ConfiguredServer.OnPostgres(connectionString, rolled.Settings()))
                StartUpFailure.Of(onlyNew);

            var both = rolled.Settings();
            foreach (var (key, value) in old.Settings("DataProtection:PreviousCertificates:0")) both[key] = value;
            await using var after = ConfiguredServer.OnPostgres(connectionString, both);
            Assert.Equal(HttpStatusCode.OK, (await after.CreateClient().GetAsync("/health/ready")).StatusCode);
            Assert.Equal("protected under the old certificate", Protector(after).Unprotect(secret));

            // New keys are encrypted with the new certificate.
            after.Services.GetRequiredService<IKeyManager>().CreateNewKey(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
            await using var db = KeyProtectionTests.Database(connectionString);
            var newest = await db.DataProtectionKeys.AsNoTracking().OrderByDescending(k => k.Id).Select(k => k.Xml).FirstAsync();
            using var certificate = Certificate(rolled);
            Assert.Contains(Convert.ToBase64String(certificate.RawData), newest);
        });
    }

    private static IDataProtector Protector(WebApplicationFactory<Program> node) =>
        node.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("MultiNodeTests");

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate(TestCertificate certificate) =>
        System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(certificate.Path, certificate.Password);

    private async Task OnFreshDatabaseAsync(Func<string, Task> test)
    {
        var name = await server.Postgres.CreateDatabaseAsync("nodes");
        try
        {
            await test(server.Postgres.ConnectionString(name));
        }
        finally
        {
            await server.Postgres.DropDatabaseAsync(name);
        }
    }
}
