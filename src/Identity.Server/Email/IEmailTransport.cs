using System.Net;
using System.Net.Mail;
using System.Net.Mime;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Identity.Server.Email;

/// <summary>The seam to the outside mail system.</summary>
public interface IEmailTransport
{
    Task SendAsync(EmailMessage message, CancellationToken ct);
}

/// <summary>SMTP through System.Net.Mail (MailKit does not restore here): None, STARTTLS, or TLS from the first byte.</summary>
internal sealed class SmtpEmailTransport(IOptions<EmailOptions> options) : IEmailTransport
{
    public async Task SendAsync(EmailMessage message, CancellationToken ct)
    {
        var security = options.Value.Smtp.Security;
        try
        {
            await SendAsync(message, encrypted: security != SmtpSecurity.None, ct);
        }
        catch (SmtpException exception) when (security is null && exception is { StatusCode: SmtpStatusCode.GeneralFailure, InnerException: null })
        {
            // Unset security: the server offered no STARTTLS ("Server does not support secure connections"), so plain.
            await SendAsync(message, encrypted: false, ct);
        }
    }

    private async Task SendAsync(EmailMessage message, bool encrypted, CancellationToken ct)
    {
        var o = options.Value;
        using var mail = new MailMessage(o.From, message.To) { Subject = message.Subject, Body = message.TextBody };
        mail.AlternateViews.Add(AlternateView.CreateAlternateViewFromString(message.HtmlBody, null, MediaTypeNames.Text.Html));
        using var smtp = new SmtpClient(o.Smtp.Host, o.Smtp.Port)
        {
            // System.Net.Mail speaks STARTTLS when EnableSsl is set and has no implicit TLS: SslOnConnect (port 465)
            // fails here and needs a relay; docs/operations.md says so.
            EnableSsl = encrypted,
            Timeout = (int)o.Smtp.Timeout.TotalMilliseconds,
            DeliveryMethod = SmtpDeliveryMethod.Network,
        };
        if (!string.IsNullOrEmpty(o.Smtp.UserName)) smtp.Credentials = new NetworkCredential(o.Smtp.UserName, o.Smtp.Password);
        await smtp.SendMailAsync(mail, ct);
    }
}

/// <summary>
/// Development without a mail server: each message becomes a .eml file, and its links are logged so that a developer
/// can click them. Only ever used when no SMTP host is configured.
/// </summary>
internal sealed partial class PickupDirectoryEmailTransport(IOptions<EmailOptions> options, IWebHostEnvironment environment,
    ILogger<PickupDirectoryEmailTransport> logger) : IEmailTransport
{
    public async Task SendAsync(EmailMessage message, CancellationToken ct)
    {
        var directory = Path.Combine(environment.ContentRootPath, options.Value.PickupDirectory);
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}.eml");
        await File.WriteAllTextAsync(file,
            $"From: {options.Value.From}\r\nTo: {message.To}\r\nSubject: {message.Subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{message.TextBody}", ct);
        foreach (Match link in Link().Matches(message.TextBody))
            logger.PickupLink(message.Subject, link.Value);
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();
}
