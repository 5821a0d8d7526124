using MimeKit;

namespace Identity.Server.Email;

/// <summary>
/// An outbox row as the MIME message that is sent (or written to the pickup directory): <c>multipart/alternative</c>
/// with the plain text first and the HTML second (RFC 2046 §5.1.4: the last part is the richest).
/// </summary>
internal static class EmailMime
{
    /// <summary>Null when the row's recipient is not an address anyone could deliver to.</summary>
    public static MimeMessage? Build(OutboxMessage message, MailboxAddress from)
    {
        if (!MailboxAddress.TryParse(message.To, out var to) || to.LocalPart.Length == 0 || to.Domain.Length == 0) return null;
        var mime = new MimeMessage
        {
            Subject = message.Subject ?? "",
            // RFC 5322 §3.6.1: when the message was ready to enter the mail system, which is when it was queued; a
            // retry sends the same message again, not a new one.
            Date = message.CreatedAt,
            // One id per outbox row, the same on every attempt, so that a message repeated after a crash between the
            // send and its recording can be recognised as a duplicate.
            MessageId = $"{message.Id:N}@{from.Domain}",
            Body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody }.ToMessageBody(),
        };
        mime.From.Add(from);
        mime.To.Add(to);
        return mime;
    }
}
