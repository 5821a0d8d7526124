using Identity.Server.Accounts;
using Identity.Server.Hosting;
using Identity.Server.Persistence;

namespace Identity.Server.Email;

/// <summary>
/// Queues a message on the caller's unit of work; it is stored by the caller's SaveChanges, or not at all (the
/// <c>identity.emails.queued</c> counter moves here, so a change that then fails to save is counted all the same).
/// </summary>
internal sealed class EmailOutbox(ServerDbContext db, ServerMetrics metrics, TimeProvider time)
{
    public void Enqueue(EmailMessage message) => Add(new OutboxMessage
    {
        To = message.To,
        Subject = message.Subject,
        TextBody = message.TextBody,
        HtmlBody = message.HtmlBody,
    });

    /// <summary>
    /// Queues an account link for <paramref name="address"/> without looking the address up: the dispatch job finds
    /// the account, issues the token and writes the message, or drops the row when no account awaits the link
    /// (<see cref="OutboxMessage.Link"/>). One row whatever the address, so the caller's request costs the same.
    /// </summary>
    public void EnqueueLink(AccountTokenPurpose link, string address) => Add(new OutboxMessage { To = address, Link = link });

    private void Add(OutboxMessage message)
    {
        var now = time.GetUtcNow();
        message.Id = Guid.CreateVersion7(now);
        message.CreatedAt = now;
        message.NextAttemptAt = now;
        db.OutboxMessages.Add(message);
        metrics.EmailQueued();
    }
}

public sealed record EmailMessage(string To, string Subject, string TextBody, string HtmlBody);
