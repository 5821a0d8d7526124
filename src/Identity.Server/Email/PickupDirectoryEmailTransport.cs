using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Identity.Server.Email;

/// <summary>
/// Development without a mail server: each message becomes the same MIME message SMTP would carry, as an .eml file,
/// and its links are logged so that a developer can click them. Only ever used when no SMTP host is configured.
/// </summary>
internal sealed partial class PickupDirectoryEmailTransport(IOptions<EmailOptions> options, IWebHostEnvironment environment,
    ILogger<PickupDirectoryEmailTransport> logger) : IEmailTransport, IEmailBatch
{
    private readonly MailboxAddress from = MailboxAddress.Parse(options.Value.From);

    public IEmailBatch BeginBatch() => this;

    public async Task<DeliveryOutcome> SendAsync(OutboxMessage message, CancellationToken ct)
    {
        if (EmailMime.Build(message, from) is not { } mime) return DeliveryOutcome.Rejected("The recipient is not a valid email address.");
        var directory = Path.Combine(environment.ContentRootPath, options.Value.PickupDirectory);
        Directory.CreateDirectory(directory);
        // Named by the outbox row (version 7 ids sort by time): a message written again after a crash replaces its file.
        await mime.WriteToAsync(Path.Combine(directory, $"{message.Id:N}.eml"), ct);
        foreach (Match link in Link().Matches(message.TextBody ?? ""))
            logger.PickupLink(message.Subject ?? "", link.Value);
        return DeliveryOutcome.Sent;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();
}
