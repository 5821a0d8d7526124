using Microsoft.Extensions.Options;
using Quartz;

namespace Identity.Server.Jobs;

internal static class JobsRegistration
{
    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>();
        // Schedules are read here, in registration code: Quartz wants them before the container is built.
        var jobs = builder.Configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();
        // Quartz keeps schedulers in a process-wide registry by name; an in-memory scheduler is this host's alone,
        // so it gets a name of its own (several hosts share a process in tests).
        var properties = new Dictionary<string, string?> { ["quartz.scheduler.instanceName"] = $"identity-{Guid.NewGuid():N}" };
        services.AddQuartz(properties, quartz =>
        {
            if (jobs.Prune.Enabled)
            {
                var prune = new JobKey(nameof(PruneExpiredGrantsJob));
                quartz.AddJob<PruneExpiredGrantsJob>(job => job.WithIdentity(prune));
                quartz.AddTrigger(t => t.ForJob(prune).StartAt(DateTimeOffset.UtcNow + jobs.Prune.FirstRunDelay)
                    .WithSimpleSchedule(s => s.WithInterval(Positive(jobs.Prune.Interval)).RepeatForever()
                        .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
            }
            var email = new JobKey(nameof(DispatchEmailOutboxJob));
            quartz.AddJob<DispatchEmailOutboxJob>(job => job.WithIdentity(email));
            quartz.AddTrigger(t => t.ForJob(email).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(Positive(jobs.Email.Interval)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
        });
        services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
        services.AddScoped<JobLeases>();
        services.AddScoped<PruneExpiredGrantsJob>();
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
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
