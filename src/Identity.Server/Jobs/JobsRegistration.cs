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

/// <summary>
/// Every period must be positive (a delay may be zero) and within a bound: past it a value is a slip, and far enough
/// past it the scheduler's arithmetic left DateTimeOffset's range (a FirstRunDelay of 10,000 years ended start-up with
/// "A task was canceled", naming no key).
/// </summary>
internal sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    /// <summary>A job that runs less often than weekly is a job turned off: Jobs:Prune:Enabled=false says so.</summary>
    internal static readonly TimeSpan LongestPeriod = TimeSpan.FromDays(7);

    /// <summary>Ten years, as the longest token lifetimes: rows are kept at most this long after they expire.</summary>
    internal static readonly TimeSpan LongestRetention = TimeSpan.FromDays(3650);

    public ValidateOptionsResult Validate(string? name, JobsOptions options)
    {
        var failures = new List<string>();
        void Positive(TimeSpan value, string key, TimeSpan longest, string inWords)
        {
            if (value <= TimeSpan.Zero || value > longest) failures.Add($"{key} must be a positive TimeSpan of at most {inWords}.");
        }
        void NotNegative(TimeSpan value, string key, TimeSpan longest, string inWords)
        {
            if (value < TimeSpan.Zero || value > longest) failures.Add($"{key} must be a TimeSpan from 0 to {inWords}.");
        }
        Positive(options.Prune.Interval, "Jobs:Prune:Interval", LongestPeriod, "7 days");
        NotNegative(options.Prune.RetentionAge, "Jobs:Prune:RetentionAge", LongestRetention, "3650 days");
        NotNegative(options.Prune.FirstRunDelay, "Jobs:Prune:FirstRunDelay", LongestPeriod, "7 days");
        if (options.Prune.BatchSize < 1) failures.Add("Jobs:Prune:BatchSize must be at least 1.");
        Positive(options.Email.Interval, "Jobs:Email:Interval", LongestPeriod, "7 days");
        if (options.Email.BatchSize < 1) failures.Add("Jobs:Email:BatchSize must be at least 1.");
        // 0 would never prune, a backoff of 0 retry at every run, a lease of 0 let every node send a claimed message.
        if (options.Prune.MaxRowsPerRun < 1) failures.Add("Jobs:Prune:MaxRowsPerRun must be at least 1.");
        Positive(options.Email.FirstBackoff, "Jobs:Email:FirstBackoff", LongestPeriod, "7 days");
        if (options.Email.MaxBackoff < options.Email.FirstBackoff) failures.Add("Jobs:Email:MaxBackoff must be at least FirstBackoff.");
        else if (options.Email.MaxBackoff > LongestPeriod) failures.Add("Jobs:Email:MaxBackoff must be at most 7 days.");
        Positive(options.Email.ClaimLease, "Jobs:Email:ClaimLease", LongestPeriod, "7 days");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
