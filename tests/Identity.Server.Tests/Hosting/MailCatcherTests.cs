using System.Net.Mail;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>The harness's SMTP catcher receives real SMTP and reads it back; the email tests depend on both halves.</summary>
public sealed class MailCatcherTests
{
    [Fact]
    public async Task MessageSentOverSmtp_IsReadBackOverTheApi()
    {
        await using var catcher = await MailCatcher.StartAsync();
        using var smtp = new SmtpClient("127.0.0.1", catcher.SmtpPort);

        await smtp.SendMailAsync(new MailMessage("server@example.test", "person@example.test", "Hello", "Body text"));

        var message = await catcher.WaitForMessageAsync("person@example.test");
        Assert.Equal("Hello", message.Subject);
        Assert.Contains("Body text", message.Text);
    }
}
