using Identity.Server.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using Quartz.Impl;

namespace Identity.Server.Jobs;

internal static class JobsRegistration
{
    /// <summary>Quartz's cluster is the set of schedulers with one name on one database: every node uses this one.</summary>
    internal const string SchedulerName = "identity-server";
    internal const string TablePrefix = "qrtz_";

    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>();
        // Schedules and the store are chosen here, in registration code: Quartz wants them before the container is built.
        var jobs = builder.Configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();
        var clustered = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>()?.Provider == DatabaseProvider.Postgres;
        services.Configure<QuartzOptions>(o =>
        {
            // Every node declares the same jobs at start; the stored trigger keeps its firing history, so a restart
            // neither re-fires a run that already happened nor pushes the next one back.
            o.Scheduling.OverwriteExistingData = true;
            o.Scheduling.ScheduleTriggerRelativeToReplacedTrigger = true;
        });
        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(s =>
            {
                s.InstanceName = SchedulerName;
                s.GenerateInstanceId = true;
            });
            // Nodes compare check-in times to detect a dead peer, so the scheduler runs on the wall clock; the jobs
            // themselves read the application's TimeProvider for what counts as expired.
            quartz.UseTimeProvider(TimeProvider.System);
            if (clustered)
                quartz.UsePersistentStore(store =>
                {
                    store.UsePostgres(source => source.DataSourceFactory = provider =>
                        NpgsqlDataSource.Create(PersistenceRegistration.Tuned(PersistenceRegistration.ConnectionString(provider))));
                    store.UseClustering(_ => { });
                    store.UseSerializer<SystemTextJsonObjectSerializer>();
                    // The tables come from our migrations (0002_ClusteredJobs); Quartz only checks them.
                    store.ConfigureStore(o =>
                    {
                        o.TablePrefix = TablePrefix;
                        o.SchemaProvisioning = SchemaProvisioning.Validate;
                    });
                });
            else
                quartz.UseInMemoryStore(_ => { });

            if (jobs.Prune.Enabled)
            {
                var prune = new JobKey(nameof(PruneExpiredGrantsJob));
                quartz.AddJob<PruneExpiredGrantsJob>(job => job.WithIdentity(prune));
                quartz.AddTrigger(t => t.ForJob(prune).WithIdentity(nameof(PruneExpiredGrantsJob))
                    .StartAt(DateTimeOffset.UtcNow + jobs.Prune.FirstRunDelay)
                    .WithSimpleSchedule(s => s.WithInterval(Positive(jobs.Prune.Interval)).RepeatForever()
                        .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
            }
            var email = new JobKey(nameof(DispatchEmailOutboxJob));
            quartz.AddJob<DispatchEmailOutboxJob>(job => job.WithIdentity(email));
            quartz.AddTrigger(t => t.ForJob(email).WithIdentity(nameof(DispatchEmailOutboxJob)).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(Positive(jobs.Email.Interval)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
        });
        services.AddHostedService<JobScheduling>();
        services.AddScoped<PruneExpiredGrantsJob>();
        services.AddScoped<Accounts.AccountLinkMessages>(); // for the dispatch job, which writes the links it sends
        return builder;
    }

    private static TimeSpan Positive(TimeSpan value) => value > TimeSpan.Zero ? value : TimeSpan.FromSeconds(5);
}

internal sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    public ValidateOptionsResult Validate(string? name, JobsOptions options)
    {
        var failures = new List<string>();
        if (options.Prune.Interval <= TimeSpan.Zero) failures.Add("Jobs:Prune:Interval must be a positive TimeSpan.");
        if (options.Prune.RetentionAge < TimeSpan.Zero) failures.Add("Jobs:Prune:RetentionAge must not be negative.");
        if (options.Prune.BatchSize < 1) failures.Add("Jobs:Prune:BatchSize must be at least 1.");
        if (options.Email.Interval <= TimeSpan.Zero) failures.Add("Jobs:Email:Interval must be a positive TimeSpan.");
        if (options.Email.BatchSize < 1) failures.Add("Jobs:Email:BatchSize must be at least 1.");
        // 0 would never prune, a backoff of 0 retry at every run, a lease of 0 let every node send a claimed message.
        if (options.Prune.MaxRowsPerRun < 1) failures.Add("Jobs:Prune:MaxRowsPerRun must be at least 1.");
        if (options.Email.FirstBackoff <= TimeSpan.Zero) failures.Add("Jobs:Email:FirstBackoff must be a positive TimeSpan.");
        if (options.Email.MaxBackoff < options.Email.FirstBackoff) failures.Add("Jobs:Email:MaxBackoff must be at least FirstBackoff.");
        if (options.Email.ClaimLease <= TimeSpan.Zero) failures.Add("Jobs:Email:ClaimLease must be a positive TimeSpan.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
