using Identity.Server.Tests.Infrastructure;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Identity.Server.Tests.Hosting;

/// <summary>The harness's SMTP catcher receives real SMTP and reads it back; the email tests depend on both halves.</summary>
public sealed class MailCatcherTests
{
    [Fact]
    public async Task MessageSentOverSmtp_IsReadBackOverTheApi()
    {
        await using var catcher = await MailCatcher.StartAsync();
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", catcher.SmtpPort, SecureSocketOptions.None);

        await smtp.SendAsync(new MimeMessage([MailboxAddress.Parse("server@example.test")], [MailboxAddress.Parse("person@example.test")], "Hello",
            new TextPart("plain") { Text = "Body text" }));

        var message = await catcher.WaitForMessageAsync("person@example.test");
        Assert.Equal("Hello", message.Subject);
        Assert.Contains("Body text", message.Text);
    }
}
