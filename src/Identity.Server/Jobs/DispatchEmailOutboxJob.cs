using Identity.Server.Email;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace Identity.Server.Jobs;

/// <summary>
/// Sends due outbox messages. Each message is claimed with a conditional update before it is sent, so that with any
/// number of nodes one node sends it; only a crash between the SMTP send and recording it can repeat a message.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class DispatchEmailOutboxJob(ServerDbContext db, IEmailTransport transport, IOptions<JobsOptions> options,
    TimeProvider time, ILogger<DispatchEmailOutboxJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        var o = options.Value.Email;
        var now = time.GetUtcNow();
        var due = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.SentAt == null && m.NextAttemptAt <= now && (m.ClaimedUntil == null || m.ClaimedUntil < now))
            .OrderBy(m => m.NextAttemptAt).Take(o.BatchSize).ToListAsync(ct);
        foreach (var message in due)
        {
            var claimedUntil = now + o.ClaimLease;
            var claimed = await db.OutboxMessages
                .Where(m => m.Id == message.Id && m.SentAt == null && (m.ClaimedUntil == null || m.ClaimedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClaimedUntil, claimedUntil), ct);
            if (claimed == 0) continue; // another node has it
            await SendAsync(message, o, ct);
        }
    }

    private async Task SendAsync(OutboxMessage message, EmailJobOptions o, CancellationToken ct)
    {
        try
        {
            await transport.SendAsync(new EmailMessage(message.To, message.Subject, message.TextBody, message.HtmlBody), ct);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var attempts = message.Attempts + 1;
            var backoff = TimeSpan.FromTicks(Math.Min(o.MaxBackoff.Ticks, o.FirstBackoff.Ticks * (1L << Math.Min(attempts - 1, 20))));
            var next = time.GetUtcNow() + backoff;
            var error = exception.GetBaseException().Message;
            await db.OutboxMessages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Attempts, attempts).SetProperty(m => m.NextAttemptAt, next)
                .SetProperty(m => m.LastError, error.Length > 500 ? error[..500] : error).SetProperty(m => m.ClaimedUntil, (DateTimeOffset?)null), CancellationToken.None);
            logger.EmailFailed(message.Id, attempts, next, error);
            return;
        }
        var sentAt = time.GetUtcNow();
        await db.OutboxMessages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.SentAt, sentAt).SetProperty(m => m.Attempts, message.Attempts + 1).SetProperty(m => m.ClaimedUntil, (DateTimeOffset?)null),
            CancellationToken.None);
        logger.EmailSent(message.Id);
    }
}
