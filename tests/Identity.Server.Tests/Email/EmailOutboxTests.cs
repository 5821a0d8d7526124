using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Email;

/// <summary>SPEC §6: a queued email is stored with the change that caused it and delivered, with retries, once SMTP answers.</summary>
[Collection(ServerCollection.Name)]
public sealed class EmailOutboxTests(ServerFixture server)
{
    [Fact]
    public async Task SmtpDown_WhileRegistering_TheMessageArrivesWhenItReturns()
    {
        await using var catcher = await MailCatcher.StartAsync();
        await using var host = await HostSendingToAsync(catcher, security: "None");
        var api = new AccountApi(host.HttpsClient(), catcher);
        var data = new TestData(host);
        await catcher.StopServerAsync();

        var email = AccountApi.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(email)).Response.StatusCode);
        await WaitAsync(async () => await data.DbAsync(db => db.OutboxMessages.AnyAsync(m => m.To == email && m.Attempts > 0 && m.LastError != null)));

        await catcher.StartServerAsync();

        var message = await catcher.WaitForMessageAsync(email);
        Assert.Equal("Confirm your email address", message.Subject);
        var row = await data.DbAsync(db => db.OutboxMessages.SingleAsync(m => m.To == email));
        Assert.NotNull(row.SentAt);
        Assert.True(row.Attempts >= 2);
    }

    [Fact]
    public async Task SecurityUnset_AndNoStartTlsOffered_SendsPlain()
    {
        await using var catcher = await MailCatcher.StartAsync();
        await using var host = await HostSendingToAsync(catcher, security: null);
        var api = new AccountApi(host.HttpsClient(), catcher);
        var email = AccountApi.NewEmail();

        await api.RegisterAsync(email);

        Assert.Equal("Confirm your email address", (await catcher.WaitForMessageAsync(email)).Subject);
    }

    [Fact]
    public async Task StartTlsRequired_ButNotOffered_IsNeverSentPlain()
    {
        await using var catcher = await MailCatcher.StartAsync();
        await using var host = await HostSendingToAsync(catcher, security: "StartTls");
        var api = new AccountApi(host.HttpsClient(), catcher);
        var data = new TestData(host);
        var email = AccountApi.NewEmail();

        await api.RegisterAsync(email);
        await WaitAsync(async () => await data.DbAsync(db => db.OutboxMessages.AnyAsync(m => m.To == email && m.LastError != null)));

        Assert.Equal(0, await api.CountMessagesAsync(email));
    }

    [Fact]
    public async Task NoSmtpHost_WritesTheMessageToThePickupDirectory()
    {
        var pickup = Directory.CreateTempSubdirectory("identity-pickup");
        var database = await server.Postgres.CreateDatabaseAsync("pickup");
        try
        {
            await using var host = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), new Dictionary<string, string?>
            {
                ["Email:PickupDirectory"] = pickup.FullName,
                ["Jobs:Email:Interval"] = "00:00:00.200",
            });
            var email = AccountApi.NewEmail();
            await new AccountApi(host.HttpsClient(), server.Mail).RegisterAsync(email);

            await WaitAsync(() => Task.FromResult(pickup.GetFiles("*.eml").Length > 0));
            var message = await File.ReadAllTextAsync(pickup.GetFiles("*.eml").Single().FullName);
            Assert.Contains($"To: {email}", message);
            Assert.Contains("https://localhost/account/confirm-email?userId=", message);
            Assert.Equal(0, await new AccountApi(server.HttpsClient(), server.Mail).CountMessagesAsync(email));
        }
        finally
        {
            pickup.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task EachMessage_IsSentOnce()
    {
        var api = new AccountApi(server.CreateClient(), server.Mail);
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        await server.Mail.WaitForMessageAsync(email);
        await Task.Delay(1500); // several dispatch runs later
        Assert.Equal(1, await api.CountMessagesAsync(email));
    }

    /// <summary>
    /// A server on a database of its own sending to <paramref name="catcher"/>: every node sending from one outbox is the
    /// design, so on the shared fixture's database another host would deliver the message.
    /// </summary>
    private async Task<ConfiguredServer> HostSendingToAsync(MailCatcher catcher, string? security)
    {
        var database = await server.Postgres.CreateDatabaseAsync("outbox");
        var settings = new Dictionary<string, string?>
        {
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = catcher.SmtpPort.ToString(),
            ["Jobs:Email:Interval"] = "00:00:00.200",
            ["Jobs:Email:FirstBackoff"] = "00:00:00.500",
            ["Jobs:Email:MaxBackoff"] = "00:00:01",
        };
        if (security is not null) settings["Email:Smtp:Security"] = security;
        return ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database), settings);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        if (!await Eventually.TrueAsync(condition, 150, TimeSpan.FromMilliseconds(200))) throw new TimeoutException("condition not met");
    }
}
