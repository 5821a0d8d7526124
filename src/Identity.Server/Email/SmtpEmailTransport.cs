using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using SmtpClient = MailKit.Net.Smtp.SmtpClient;

namespace Identity.Server.Email;

/// <summary>SMTP through MailKit: one connection per dispatch run, TLS as <c>Email:Smtp:Security</c> says (SPEC §5).</summary>
internal sealed class SmtpEmailTransport(IOptions<EmailOptions> options, ILogger<SmtpEmailTransport> logger) : IEmailTransport
{
    private readonly SmtpServerTrust? trust = SmtpServerTrust.Create(options.Value.Smtp);
    private readonly MailboxAddress from = MailboxAddress.Parse(options.Value.From);

    public IEmailBatch BeginBatch() => new SmtpBatch(options.Value.Smtp, from, trust, logger);
}

/// <summary>
/// A dispatch run's SMTP connection: opened for the first message, reused for the next ones, closed with QUIT at the
/// end. When the server cannot be reached, the run's remaining messages wait for the next run instead of each trying
/// again (and timing out again) now.
/// </summary>
internal sealed class SmtpBatch(SmtpOptions options, MailboxAddress from, SmtpServerTrust? trust, ILogger logger) : IEmailBatch
{
    private SmtpClient? client;
    private DeliveryOutcome? unreachable;

    public async Task<DeliveryOutcome> SendAsync(OutboxMessage message, CancellationToken ct)
    {
        if (EmailMime.Build(message, from) is not { } mime) return DeliveryOutcome.Rejected("The recipient is not a valid email address.");
        if (unreachable is not null) return unreachable;
        if (client is not { IsConnected: true })
        {
            unreachable = await ConnectAsync(ct);
            if (unreachable is not null) return unreachable;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.SendTimeout);
        try
        {
            await client!.SendAsync(mime, deadline.Token);
            return DeliveryOutcome.Sent;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Close(); // the server may be anywhere in the transaction: this connection cannot be trusted with the next message
            return DeliveryOutcome.Deferred($"No answer within Email:Smtp:SendTimeout ({options.SendTimeout}).");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A refused command leaves MailKit's connection usable (it resets the transaction); anything else does not.
            if (exception is not MailKit.Net.Smtp.SmtpCommandException) Close();
            return SmtpFailures.Classify(exception);
        }
    }

    /// <summary>Connects, secures and authenticates as configured; returns why not, or null when ready to send.</summary>
    private async Task<DeliveryOutcome?> ConnectAsync(CancellationToken ct)
    {
        Close();
        client = new SmtpClient { Timeout = (int)options.CommandTimeout.TotalMilliseconds };
        if (trust is not null) client.ServerCertificateValidationCallback = trust.Validate;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.ConnectTimeout);
        try
        {
            await client.ConnectAsync(options.Host!, options.Port, SocketOptions(options.Security), deadline.Token);
            if (string.IsNullOrEmpty(options.UserName)) return null;
            // Auto falls back to plain SMTP when no STARTTLS is offered, which is also what an attacker who strips it
            // from the greeting would arrange: the password goes out in the clear only when Security=None says so.
            if (!client.IsSecure && options.Security != SmtpSecurity.None)
            {
                Close();
                return DeliveryOutcome.Deferred("The server offered no TLS, so the credentials were not sent (Email:Smtp:Security=None allows plain SMTP).");
            }
            await client.AuthenticateAsync(options.UserName, options.Password ?? "", deadline.Token);
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Close();
            return DeliveryOutcome.Deferred($"Could not connect within Email:Smtp:ConnectTimeout ({options.ConnectTimeout}).");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Close();
            return SmtpFailures.Classify(exception) with { Status = DeliveryStatus.Deferred }; // nothing about this message was refused
        }
    }

    private static SecureSocketOptions SocketOptions(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        // MailKit's Auto is SPEC §5's: implicit TLS on port 465, otherwise STARTTLS when offered.
        _ => SecureSocketOptions.Auto,
    };

    private void Close()
    {
        client?.Dispose();
        client = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (client is { IsConnected: true })
        {
            using var deadline = new CancellationTokenSource(options.CommandTimeout);
            try
            {
                await client.DisconnectAsync(quit: true, deadline.Token);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or MailKit.Net.Smtp.SmtpProtocolException
                                                  or MailKit.Net.Smtp.SmtpCommandException)
            {
                // Every message of the run has its outcome already; a QUIT that went unanswered changes none of them.
                logger.SmtpQuitFailed(exception.GetType().Name);
            }
        }
        Close();
    }
}
