using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using MimeKit;

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
            // The same MIME message SMTP would carry, only written to a file.
            using var message = await MimeMessage.LoadAsync(pickup.GetFiles("*.eml").Single().FullName);
            Assert.Equal(email, message.To.Mailboxes.Single().Address);
            Assert.IsType<MultipartAlternative>(message.Body);
            Assert.Contains("https://localhost/account/confirm-email?userId=", message.TextBody!);
            Assert.Contains("https://localhost/account/confirm-email?userId=", message.HtmlBody);
            Assert.False(string.IsNullOrEmpty(message.MessageId));
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

    [Fact]
    public async Task Message_IsPlainTextAndHtmlAlternatives_WithMessageIdDateAndFrom()
    {
        var api = new AccountApi(server.CreateClient(), server.Mail);
        var email = AccountApi.NewEmail();
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");

        await using var source = await server.Mail.SourceAsync(await server.Mail.WaitForMessageAsync(email));
        using var message = await MimeMessage.LoadAsync(source);

        Assert.Equal("identity@example.test", message.From.Mailboxes.Single().Address);
        Assert.Equal(email, message.To.Mailboxes.Single().Address);
        Assert.EndsWith("@example.test", message.MessageId);
        Assert.InRange(message.Date, before, DateTimeOffset.UtcNow.AddSeconds(5));
        var alternatives = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(["text/plain", "text/html"], alternatives.Select(part => part.ContentType.MimeType));
        Assert.Contains(link.Uri.AbsoluteUri, message.TextBody);
        // The HTML has the link twice: as the button and as text to copy.
        var href = System.Net.WebUtility.HtmlEncode(link.Uri.AbsoluteUri);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(message.HtmlBody!, System.Text.RegularExpressions.Regex.Escape($"href=\"{href}\"")));
        Assert.Contains($">{href}</a>", message.HtmlBody);
    }

    private static Task<WebApplicationFactory<Program>> HostSendingToAsync(MailCatcher catcher, string? security) =>
        MailHosts.SendingToAsync(catcher.SmtpPort, security is null ? null : new Dictionary<string, string?> { ["Email:Smtp:Security"] = security });

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        if (!await Eventually.TrueAsync(condition, 150, TimeSpan.FromMilliseconds(200))) throw new TimeoutException("condition not met");
    }
}
