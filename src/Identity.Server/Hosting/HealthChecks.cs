using Identity.Server.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Identity.Server.Hosting;

internal static class HealthRegistration
{
    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return builder;
    }

    public static void MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
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
            return pending.Count == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) not applied.");
        }
        catch (Exception exception) when (DatabaseFaults.IsUnavailable(exception) || exception is System.Data.Common.DbException)
        {
            return HealthCheckResult.Unhealthy("Database unreachable.");
        }
    }
}
