using System.Diagnostics;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore.Models;
using Quartz;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Jobs;

/// <summary>
/// Deletes what can no longer matter: OpenIddict's token rows past their expiry by more than the retention age (a
/// redeemed or revoked token always expires within its lifetime, and validation refuses a token whose row is gone;
/// within the retention age a redeemed refresh token stays, so that its reuse is still recognised), then ad-hoc
/// authorizations left without tokens, rotation successors past their leeway, used email links, and email sent or
/// refused for good; and the remembered client assertions and device polls whose codes have expired, and browser
/// sessions past their cookie's expiry. In batches through the expiry indexes, up to a cap per run. With several
/// nodes, Quartz's clustered store fires each run on one of them.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class PruneExpiredGrantsJob(ServerDbContext db, IOptions<JobsOptions> options, TimeProvider time,
    ServerMetrics metrics, ILogger<PruneExpiredGrantsJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await RunAsync(ct);

    public async Task<PruneResult> RunAsync(CancellationToken ct)
    {
        var o = options.Value.Prune;
        PersistenceRegistration.LongWork(db);
        var clock = Stopwatch.StartNew();
        var now = time.GetUtcNow();
        var cutoff = now - o.RetentionAge;
        var cutoffUtc = cutoff.UtcDateTime;
        var tokenRows = db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>();
        var tokens = await DeleteInBatchesAsync(() => tokenRows.Where(t => t.ExpirationDate < cutoffUtc).OrderBy(t => t.ExpirationDate), o, 0, ct);
        // A sign-in with no token left can never issue again; its tokens are written after it, so an authorization is
        // only empty on its way to getting them if it is younger than the retention age.
        var authorizations = await DeleteInBatchesAsync(() => db.Set<OpenIddictEntityFrameworkCoreAuthorization<Guid>>()
            .Where(a => a.Type == AuthorizationTypes.AdHoc && a.CreationDate < cutoffUtc && !tokenRows.Any(t => t.Authorization!.Id == a.Id))
            .OrderBy(a => a.CreationDate), o, tokens, ct);
        var successors = await db.RefreshTokenSuccessors.Where(s => s.ExpiresAt < now).ExecuteDeleteAsync(ct);
        var links = await db.AccountTokens.Where(t => t.ExpiresAt < cutoff).ExecuteDeleteAsync(ct);
        var mail = await db.OutboxMessages.Where(m => (m.SentAt != null && m.SentAt < cutoff) || (m.FailedAt != null && m.FailedAt < cutoff)).ExecuteDeleteAsync(ct);
        // An expired assertion is refused for its expiry, and an expired device code for its own: neither needs remembering.
        var assertions = await db.UsedClientAssertions.Where(a => a.ExpiresAt < now).ExecuteDeleteAsync(ct);
        var polls = await db.DevicePolls.Where(p => p.ExpiresAt < now).ExecuteDeleteAsync(ct);
        var sessions = await db.BrowserSessions.Where(s => s.ExpiresAt < now).ExecuteDeleteAsync(ct);
        var result = new PruneResult(tokens, authorizations, successors + links + mail + assertions + polls + sessions, clock.Elapsed);
        logger.Pruned(result.Tokens, result.Authorizations, result.Other, result.Elapsed.TotalMilliseconds);
        metrics.PruneRan(result.Tokens + result.Authorizations + result.Other, result.Elapsed);
        return result;
    }

    /// <summary>
    /// Oldest first, as the expiry index reads them: a batch taken without an order is whichever rows the plan meets
    /// first, and EF Core warns of it on every run (event 10102, row limiting without OrderBy).
    /// </summary>
    private static async Task<int> DeleteInBatchesAsync<T>(Func<IOrderedQueryable<T>> rows, PruneJobOptions o, int alreadyDeleted, CancellationToken ct)
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
