using Microsoft.Extensions.Options;
using MimeKit;

namespace Identity.Server.Email;

/// <summary>Section "Email" (SPEC §5); validated at start-up.</summary>
public sealed class EmailOptions
{
    public const string SectionName = "Email";

    /// <summary>The <c>From</c> of every message, an address with an optional display name (<c>Identity &lt;id@example.com&gt;</c>).</summary>
    public string From { get; set; } = "identity@localhost";
    public SmtpOptions Smtp { get; set; } = new();
    /// <summary>Where messages go as <c>.eml</c> files when no SMTP host is set (the <c>dotnet run</c> default).</summary>
    public string PickupDirectory { get; set; } = "mail-pickup";
}

/// <summary>"Email:Smtp". No host: messages are written to the pickup directory instead.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }
    /// <summary>Default 25; 587 is the usual submission port with STARTTLS, 465 the one with implicit TLS.</summary>
    public int Port { get; set; } = 25;
    /// <summary>Default <see cref="SmtpSecurity.Auto"/>.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;
    /// <summary>Set: the server is asked to authenticate this user (with <see cref="Password"/>) on every connection.</summary>
    public string? UserName { get; set; }
    public string? Password { get; set; }
    /// <summary>
    /// A PEM file of one or more certificates (a private CA, or the server's own self-signed certificate) that the SMTP
    /// server's certificate may chain to, in addition to the system's trusted roots. The chain, host name, validity
    /// dates and key usage are still checked in full; this only adds trust anchors, and only for the SMTP connection.
    /// </summary>
    public string? TrustedCertificatePath { get; set; }
    /// <summary>Default 15 seconds: TCP connect, TLS handshake, greeting, EHLO and authentication together.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Default 30 seconds: the longest wait for any one SMTP reply or write.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Default 60 seconds: one message, from MAIL FROM to the server's acceptance of its DATA.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

public enum SmtpSecurity
{
    /// <summary>Implicit TLS on port 465; elsewhere STARTTLS when the server offers it, plain SMTP when it does not.</summary>
    Auto,
    /// <summary>Plain SMTP, never encrypted.</summary>
    None,
    /// <summary>STARTTLS is required: a server that does not offer it gets no message (never a fallback to plain SMTP).</summary>
    StartTls,
    /// <summary>TLS from the first byte (implicit TLS, usually port 465).</summary>
    SslOnConnect,
}

internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        if (!MailboxAddress.TryParse(options.From, out var from) || from.Domain.Length == 0) failures.Add($"Email:From: '{options.From}' is not an email address.");
        var smtp = options.Smtp;
        if (string.IsNullOrWhiteSpace(smtp.Host))
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        if (smtp.Port is < 1 or > 65535) failures.Add("Email:Smtp:Port must be between 1 and 65535.");
        if (!Enum.IsDefined(smtp.Security)) failures.Add("Email:Smtp:Security must be Auto, None, StartTls or SslOnConnect.");
        // Each ends up as milliseconds in an int (MailKit's Timeout, CancelAfter): a longer one threw at the first send.
        void Timeout(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue) failures.Add($"Email:Smtp:{key} must be a positive TimeSpan under 24 days.");
        }
        Timeout(smtp.ConnectTimeout, nameof(smtp.ConnectTimeout));
        Timeout(smtp.CommandTimeout, nameof(smtp.CommandTimeout));
        Timeout(smtp.SendTimeout, nameof(smtp.SendTimeout));
        if (smtp.TrustedCertificatePath is { Length: > 0 } path)
        {
            if (smtp.Security == SmtpSecurity.None) failures.Add("Email:Smtp:TrustedCertificatePath is set, but Email:Smtp:Security=None never uses TLS.");
            else if (SmtpServerTrust.TryLoad(path, out _) is { } error) failures.Add($"Email:Smtp:TrustedCertificatePath: {error}");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
