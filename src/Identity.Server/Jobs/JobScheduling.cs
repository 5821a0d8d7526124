using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace Identity.Server.Jobs;

/// <summary>
/// Starts the Quartz scheduler once the schema is current (the clustered store checks its tables when it starts, and
/// with <c>Database:MigrateOnStartup=false</c> a separate <c>migrate</c> step may not have run yet), and stops it with
/// the host, letting a running job finish; a clustered node then leaves the cluster's list of schedulers.
/// </summary>
internal sealed class JobScheduling(ISchedulerFactory factory, IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<JobsOptions> options,
    ILogger<JobScheduling> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);
    private readonly Lock gate = new();
    private IScheduler? scheduler;
    private string? clusteredInstanceId;
    private Task? shutdown;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!await SchemaIsCurrentAsync(stopping)) await Task.Delay(RetryDelay, stopping);
        // Not cancelled half-way: a scheduler that exists must be one StopAsync can shut down (its cluster check-in
        // thread would otherwise outlive the host).
        scheduler = await factory.GetScheduler(CancellationToken.None);
        // A clustered store keeps what earlier starts declared: turning the prune off must remove it from the store too.
        if (!options.Value.Prune.Enabled) await scheduler.DeleteJob(new JobKey(nameof(PruneExpiredGrantsJob)), stopping);
        await scheduler.Start(stopping);
        if ((await scheduler.GetMetadata(stopping)).JobStoreClustered) clusteredInstanceId = scheduler.SchedulerInstanceId;
        logger.SchedulerStarted(scheduler.SchedulerInstanceId);
    }

    /// <summary>
    /// Every caller waits for the one shutdown. The host can be stopped twice at once (a test host's dispose and the
    /// application's own run loop both call StopAsync, and the latter disposes the container when its call returns);
    /// returning early would dispose the container under a job that is still running.
    /// </summary>
    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        Task task;
        lock (gate) task = shutdown ??= ShutdownAsync();
        await task.WaitAsync(ct);
    }

    private async Task ShutdownAsync()
    {
        if (scheduler is null) return;
        await scheduler.Shutdown(waitForJobsToComplete: true, CancellationToken.None);
        if (clusteredInstanceId is { } instanceId) await LeaveClusterAsync(instanceId);
    }

    /// <summary>
    /// Quartz keeps a clustered node's row in <c>qrtz_scheduler_state</c> when it shuts down: only another node's
    /// recovery deletes rows, once their check-in is overdue. Our instance ids are new at every start, so each clean
    /// stop (every node of a rolling deploy) would be found by a peer as a failed instance, with a Warning
    /// "ClusterManager: detected 1 failed or restarted instances". After a clean shutdown this instance has nothing in
    /// flight: it deletes its own row. A fired trigger of its that is still recorded (a job that did not end) keeps the
    /// row, so that a peer still recovers it as Quartz would.
    /// </summary>
    private async Task LeaveClusterAsync(string instanceId)
    {
        const string prefix = JobsRegistration.TablePrefix;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            var deleted = await db.Database.ExecuteSqlRawAsync(
                $"DELETE FROM {prefix}scheduler_state s WHERE s.sched_name = {{0}} AND s.instance_name = {{1}} AND NOT EXISTS " +
                $"(SELECT 1 FROM {prefix}fired_triggers f WHERE f.sched_name = s.sched_name AND f.instance_name = s.instance_name)",
                [JobsRegistration.SchedulerName, instanceId], CancellationToken.None);
            if (deleted == 1) logger.SchedulerLeftCluster(instanceId);
            else logger.SchedulerStateKept(instanceId, "a job of this instance is still recorded as running, or another node recovered it already");
        }
        catch (Exception exception) when (Hosting.DatabaseFaults.IsUnavailable(exception))
        {
            logger.SchedulerStateKept(instanceId, exception.GetBaseException().Message);
        }
    }

    private async Task<bool> SchemaIsCurrentAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            return (await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().PendingAsync(ct)).Count == 0;
        }
        catch (Exception exception) when (Hosting.DatabaseFaults.IsUnavailable(exception))
        {
            return false;
        }
    }
}
