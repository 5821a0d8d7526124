using System.Diagnostics;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Issuance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace Identity.Server.Jobs;

/// <summary>
/// Deletes what can no longer matter: tokens past their expiry by more than the retention age (a redeemed or revoked
/// token always expires within its lifetime, and validation refuses a token whose row is gone), then token families
/// left empty, used email links and sent email. In batches through the ExpiresAt index, up to a cap per run. With
/// several nodes, Quartz's clustered store fires each run on one of them.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class PruneExpiredGrantsJob(ServerDbContext db, IOptions<JobsOptions> options, TimeProvider time,
    ServerMetrics metrics, ILogger<PruneExpiredGrantsJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await RunAsync(ct);

    public async Task<PruneResult> RunAsync(CancellationToken ct)
    {
        var o = options.Value.Prune;
        var clock = Stopwatch.StartNew();
        var cutoff = time.GetUtcNow() - o.RetentionAge;
        var tokens = await DeleteInBatchesAsync(() => db.Tokens.Where(t => t.ExpiresAt < cutoff), o, 0, ct);
        // A sign-in's family with no token left can never issue again. (Its tokens are written in the same transaction
        // as the family, so no family is ever seen empty on its way to getting them.)
        var families = await DeleteInBatchesAsync(() => db.Authorizations.Where(a => a.Kind == AuthorizationKind.AdHoc
            && a.CreatedAt < cutoff && !db.Tokens.Any(t => t.AuthorizationId == a.Id)), o, tokens, ct);
        var links = await db.AccountTokens.Where(t => t.ExpiresAt < cutoff).ExecuteDeleteAsync(ct);
        var mail = await db.OutboxMessages.Where(m => m.SentAt != null && m.SentAt < cutoff).ExecuteDeleteAsync(ct);
        var result = new PruneResult(tokens, families, links + mail, clock.Elapsed);
        logger.Pruned(result.Tokens, result.Authorizations, result.Other, result.Elapsed.TotalMilliseconds);
        metrics.PruneRan(result.Tokens + result.Authorizations + result.Other, result.Elapsed);
        return result;
    }

    private static async Task<int> DeleteInBatchesAsync<T>(Func<IQueryable<T>> rows, PruneJobOptions o, int alreadyDeleted, CancellationToken ct)
    {
        var deleted = 0;
        while (!ct.IsCancellationRequested && alreadyDeleted + deleted < o.MaxRowsPerRun)
        {
            // Short statements, each its own transaction: no long locks, and progress survives an interruption.
            var batch = await rows().Take(o.BatchSize).ExecuteDeleteAsync(ct);
            deleted += batch;
            if (batch < o.BatchSize) break;
        }
        return deleted;
    }
}

public sealed record PruneResult(int Tokens, int Authorizations, int Other, TimeSpan Elapsed);
