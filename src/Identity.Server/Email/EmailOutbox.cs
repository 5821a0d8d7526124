using Identity.Server.Hosting;
using Identity.Server.Persistence;

namespace Identity.Server.Email;

/// <summary>
/// Queues a message on the caller's unit of work; it is stored by the caller's SaveChanges, or not at all (the
/// <c>identity.emails.queued</c> counter moves here, so a change that then fails to save is counted all the same).
/// </summary>
internal sealed class EmailOutbox(ServerDbContext db, ServerMetrics metrics, TimeProvider time)
{
    public void Enqueue(EmailMessage message)
    {
        var now = time.GetUtcNow();
        db.OutboxMessages.Add(new OutboxMessage
        {
            Id = Guid.CreateVersion7(now),
            To = message.To,
            Subject = message.Subject,
            TextBody = message.TextBody,
            HtmlBody = message.HtmlBody,
            CreatedAt = now,
            NextAttemptAt = now,
        });
        metrics.EmailQueued();
    }
}

public sealed record EmailMessage(string To, string Subject, string TextBody, string HtmlBody);
