using Identity.Server.Persistence;
using Quartz;

namespace Identity.Server.Jobs;

/// <summary>
/// Starts the Quartz scheduler once the schema is current (the clustered store checks its tables when it starts, and
/// with <c>Database:MigrateOnStartup=false</c> a separate <c>migrate</c> step may not have run yet), and stops it with
/// the host, letting a running job finish.
/// </summary>
internal sealed class JobScheduling(ISchedulerFactory factory, IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<JobsOptions> options,
    ILogger<JobScheduling> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);
    private readonly Lock gate = new();
    private IScheduler? scheduler;
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
        lock (gate) task = shutdown ??= scheduler?.Shutdown(waitForJobsToComplete: true, CancellationToken.None).AsTask() ?? Task.CompletedTask;
        await task.WaitAsync(ct);
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
