using Identity.Server.Accounts;
using Identity.Server.Email;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace Identity.Server.Jobs;

/// <summary>
/// Sends due outbox messages over one connection per run. Each message is claimed with a conditional update before it
/// is sent, so that with any number of nodes one node sends it; only a crash between the SMTP send and recording it
/// can repeat a message. A message refused for good is marked failed; any other failure is retried with backoff. An
/// account link is written by the claiming node just before it is sent, and dropped when no account awaits it.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class DispatchEmailOutboxJob(ServerDbContext db, IEmailTransport transport, AccountLinkMessages links, IOptions<JobsOptions> options,
    ServerMetrics metrics, TimeProvider time, ILogger<DispatchEmailOutboxJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await RunAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        var o = options.Value.Email;
        var now = time.GetUtcNow();
        // What an operator alerts on before people complain: how long the oldest message still to be sent has waited.
        var oldest = await db.OutboxMessages.Where(m => m.SentAt == null && m.FailedAt == null).MinAsync(m => (DateTimeOffset?)m.CreatedAt, ct);
        metrics.SetOldestUnsentEmailAge(oldest is { } queuedAt ? now - queuedAt : TimeSpan.Zero);
        var due = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.SentAt == null && m.FailedAt == null && m.NextAttemptAt <= now && (m.ClaimedUntil == null || m.ClaimedUntil < now))
            .OrderBy(m => m.NextAttemptAt).Take(o.BatchSize).ToListAsync(ct);
        if (due.Count == 0) return;
        await using var batch = transport.BeginBatch();
        foreach (var message in due)
        {
            // The lease counts from this claim, not from the run's start: a run of slow sends (20 messages at up to
            // the 60 s SendTimeout each) outlasts the lease, and a claim counted from the start would be expired as
            // it is written, free for another node to send again.
            var claimedAt = time.GetUtcNow();
            var claimedUntil = claimedAt + o.ClaimLease;
            var claimed = await db.OutboxMessages
                .Where(m => m.Id == message.Id && m.SentAt == null && m.FailedAt == null && m.NextAttemptAt <= claimedAt
                    && (m.ClaimedUntil == null || m.ClaimedUntil < claimedAt))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClaimedUntil, claimedUntil), ct);
            if (claimed == 0) continue; // another node has it, or tried it since it was read and it waits for its backoff
            var outcome = message.Link is { } link ? await SendLinkAsync(batch, message, link, ct) : await SendAsync(batch, message, ct);
            if (outcome is null) await DropAsync(message, claimedUntil);
            else await RecordAsync(message, claimedUntil, outcome, o);
        }
    }

    /// <summary>
    /// The message's row while our claim still holds it: its lease is the one we wrote. Once the lease has run out
    /// another node may have claimed the message (it wrote its own lease) and be sending it; what we learnt then must not
    /// overwrite its record, least of all clear its claim and so free the message for a third node.
    /// </summary>
    private IQueryable<OutboxMessage> Claimed(OutboxMessage message, DateTimeOffset claimedUntil) =>
        db.OutboxMessages.Where(m => m.Id == message.Id && m.ClaimedUntil == claimedUntil);

    /// <summary>
    /// Writes the link's message and sends it as the row: its id and date (one Message-Id on every attempt), the
    /// account's address, the text with the token. Nothing of it is stored but the token's hash. Null: no account
    /// awaits the link.
    /// </summary>
    private async Task<DeliveryOutcome?> SendLinkAsync(IEmailBatch batch, OutboxMessage row, AccountTokenPurpose link, CancellationToken ct)
    {
        EmailMessage? written;
        try
        {
            written = await links.WriteAsync(link, row.To, ct);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The database failed between the claim and the send: retried like a failed send, so nothing is lost.
            return DeliveryOutcome.Deferred(exception.GetBaseException().Message);
        }
        if (written is null) return null;
        return await SendAsync(batch, new OutboxMessage
        {
            Id = row.Id,
            CreatedAt = row.CreatedAt,
            To = written.To,
            Subject = written.Subject,
            TextBody = written.TextBody,
            HtmlBody = written.HtmlBody,
        }, ct);
    }

    /// <summary>No account awaits the link (an unknown address, an address already confirmed): nothing is sent or kept.</summary>
    private async Task DropAsync(OutboxMessage message, DateTimeOffset claimedUntil)
    {
        if (await Claimed(message, claimedUntil).ExecuteDeleteAsync(CancellationToken.None) == 0) logger.EmailClaimLost(message.Id, "dropped");
        else logger.EmailDropped(message.Id);
    }

    private static async Task<DeliveryOutcome> SendAsync(IEmailBatch batch, OutboxMessage message, CancellationToken ct)
    {
        try
        {
            return await batch.SendAsync(message, ct);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A transport reports what it knows as an outcome; anything else (a full disk under the pickup directory,
            // a bug) is retried too, so that the message is not lost.
            return DeliveryOutcome.Deferred(exception.GetBaseException().Message);
        }
    }

    /// <summary>
    /// Written whatever the job's token says: the outcome happened, and the claim must not outlive it. A message done
    /// with (sent, or refused for good) loses its bodies: they may hold a link's one-time token, which must not wait in
    /// the database (and its backups) for the prune's retention age.
    /// </summary>
    private async Task RecordAsync(OutboxMessage message, DateTimeOffset claimedUntil, DeliveryOutcome outcome, EmailJobOptions o)
    {
        var attempts = message.Attempts + 1;
        var at = time.GetUtcNow();
        var error = outcome.Reason is { Length: > 500 } reason ? reason[..500] : outcome.Reason;
        var row = Claimed(message, claimedUntil);
        switch (outcome.Status)
        {
            case DeliveryStatus.Sent:
                if (await row.ExecuteUpdateAsync(s => s.SetProperty(m => m.SentAt, at).SetProperty(m => m.Attempts, attempts)
                    .SetProperty(m => m.ClaimedUntil, (DateTimeOffset?)null).SetProperty(m => m.TextBody, (string?)null)
                    .SetProperty(m => m.HtmlBody, (string?)null), CancellationToken.None) == 0) break;
                logger.EmailSent(message.Id);
                metrics.EmailSent();
                return;
            case DeliveryStatus.Rejected:
                if (await row.ExecuteUpdateAsync(s => s.SetProperty(m => m.FailedAt, at).SetProperty(m => m.Attempts, attempts)
                    .SetProperty(m => m.LastError, error).SetProperty(m => m.ClaimedUntil, (DateTimeOffset?)null)
                    .SetProperty(m => m.TextBody, (string?)null).SetProperty(m => m.HtmlBody, (string?)null), CancellationToken.None) == 0) break;
                logger.EmailRejected(message.Id, attempts, error!);
                metrics.EmailFailedPermanently();
                return;
            default:
                var backoff = TimeSpan.FromTicks(Math.Min(o.MaxBackoff.Ticks, o.FirstBackoff.Ticks * (1L << Math.Min(attempts - 1, 20))));
                var next = at + backoff;
                if (await row.ExecuteUpdateAsync(s => s.SetProperty(m => m.Attempts, attempts).SetProperty(m => m.NextAttemptAt, next)
                    .SetProperty(m => m.LastError, error).SetProperty(m => m.ClaimedUntil, (DateTimeOffset?)null), CancellationToken.None) == 0) break;
                logger.EmailFailed(message.Id, attempts, next, error!);
                return;
        }
        logger.EmailClaimLost(message.Id, outcome.Status.ToString().ToLowerInvariant());
    }
}
