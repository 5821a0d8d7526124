using System.Text.Json;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Identity.Server.Hosting;

/// <summary>Section "Health".</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>
    /// Default 15 minutes: an email still unsent this long after it was queued makes <c>/health/ready</c> report
    /// Degraded (still 200), so that a stuck mail server shows before people complain.
    /// </summary>
    public TimeSpan EmailBacklogThreshold { get; set; } = TimeSpan.FromMinutes(15);
}

internal sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthOptions options) => options.EmailBacklogThreshold > TimeSpan.Zero
        ? ValidateOptionsResult.Success
        : ValidateOptionsResult.Fail($"{HealthOptions.SectionName}:EmailBacklogThreshold must be a positive TimeSpan.");
}

internal static class HealthRegistration
{
    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HealthOptions>, HealthOptionsValidator>();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<EmailBacklogHealthCheck>("email_outbox", tags: ["ready"]);
        return builder;
    }

    public static void MapHealth(this WebApplication app)
    {
        // GET and HEAD only, as every other resource: the health checks' own mapping took any method, so a
        // DELETE answered 200 "Healthy".
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        // Degraded answers 200 (the default mapping): a mail backlog is worth a look, not a reason to take the node out.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = WriteAsync })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
    }

    /// <summary>
    /// <c>{"status":"Degraded","checks":{"database":{"status":"Healthy"},"email_outbox":{"status":"Degraded","description":"…"}}}</c>:
    /// what is wrong, for whoever reads the probe. Descriptions carry counts and ages, never data.
    /// </summary>
    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        var body = new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => e.Value.Description is { } description
                ? new Dictionary<string, string> { ["status"] = e.Value.Status.ToString(), ["description"] = description }
                : new Dictionary<string, string> { ["status"] = e.Value.Status.ToString() }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

/// <summary>Ready means the database answers and every migration this build ships has been applied.</summary>
internal sealed class DatabaseHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var pending = await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().PendingAsync(ct);
            if (pending.Count > 0) return HealthCheckResult.Unhealthy($"{pending.Count} migration(s) not applied.");
            // A standby not promoted yet (or default_transaction_read_only) answers reads, and every token request's write
            // would be a 503: the node must not take traffic from the load balancer.
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            if (db.Database.IsNpgsql()
                && await db.Database.SqlQueryRaw<string>("SELECT current_setting('transaction_read_only') AS \"Value\"").SingleAsync(ct) == "on")
                return HealthCheckResult.Unhealthy("The database refuses writes (read-only).");
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (DatabaseFaults.IsUnavailable(exception) || exception is System.Data.Common.DbException)
        {
            return HealthCheckResult.Unhealthy("Database unreachable.");
        }
    }
}

/// <summary>
/// Degraded when the oldest unsent email was queued longer ago than <see cref="HealthOptions.EmailBacklogThreshold"/>:
/// the mail server is refusing or unreachable, and confirmation and reset links are not arriving. Never unhealthy —
/// tokens are still issued — and silent when the database is not there or not migrated (the database check says so).
/// </summary>
internal sealed class EmailBacklogHealthCheck(IServiceScopeFactory scopes, IOptions<HealthOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            // Before the migrations there is no outbox to read, and a failed read would be logged as an error per probe.
            if ((await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().PendingAsync(ct)).Count > 0)
                return HealthCheckResult.Healthy("Not checked: migrations are pending.");
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            // Through the (SentAt, NextAttemptAt) index; unsent rows are few unless something is wrong.
            var oldest = await db.OutboxMessages.AsNoTracking().Where(m => m.SentAt == null && m.FailedAt == null)
                .OrderBy(m => m.CreatedAt).Select(m => (DateTimeOffset?)m.CreatedAt).FirstOrDefaultAsync(ct);
            var threshold = options.Value.EmailBacklogThreshold;
            var age = oldest is { } queuedAt ? time.GetUtcNow() - queuedAt : TimeSpan.Zero;
            if (age <= threshold) return HealthCheckResult.Healthy();
            return HealthCheckResult.Degraded(
                $"The oldest unsent email was queued {TimeSpan.FromSeconds(Math.Floor(age.TotalSeconds)):c} ago (threshold {threshold:c}); check the mail server.");
        }
        catch (Exception exception) when (DatabaseFaults.IsUnavailable(exception) || exception is System.Data.Common.DbException)
        {
            return HealthCheckResult.Healthy("Not checked: the database is unreachable.");
        }
    }
}
