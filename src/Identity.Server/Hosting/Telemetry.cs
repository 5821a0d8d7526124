using System.Diagnostics.Metrics;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Identity.Server.Hosting;

/// <summary>Section "Telemetry" (SPEC §5).</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";
    /// <summary>The standard OpenTelemetry variable (also read from configuration): where OTLP traces and metrics go.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public PrometheusTelemetryOptions Prometheus { get; set; } = new();
}

/// <summary>"Telemetry:Prometheus".</summary>
public sealed class PrometheusTelemetryOptions
{
    /// <summary>Serve <c>GET /metrics</c> in Prometheus text format. Default false.</summary>
    public bool Enabled { get; set; }
}

/// <summary>
/// Metrics and traces through OpenTelemetry: our own meter (<see cref="ServerMetrics"/>), ASP.NET Core's request
/// metrics, the HTTP client, the .NET runtime and Npgsql, served at <c>/metrics</c> when
/// <c>Telemetry:Prometheus:Enabled</c>; traces (a request with the database calls made under it) and metrics go to an
/// OTLP collector when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, configured by the other standard <c>OTEL_*</c>
/// variables. With neither, OpenTelemetry is not registered at all and the instruments record into nothing.
/// </summary>
internal static class TelemetryRegistration
{
    public const string ScrapePath = "/metrics";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServerMetrics>();
        // Exporters are chosen here, in registration code: OpenTelemetry wants them before the container is built.
        var options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[TelemetryOptions.OtlpEndpointKey]);
        builder.Services.AddSingleton(new TelemetryExporters(options.Prometheus.Enabled, otlp));
        if (!options.Prometheus.Enabled && !otlp) return builder;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "identity-server"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ServerMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (options.Prometheus.Enabled)
                    metrics.AddPrometheusExporter(prometheus =>
                    {
                        // docs/grafana-dashboard.json queries these names: underscores, unit suffixes and _total on
                        // counters, whatever escaping a scraper offers to negotiate.
                        prometheus.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.UnderscoreEscapingWithSuffixes;
                        // Every scrape counts up to now (Prometheus scrapes every few seconds, not in bursts).
                        prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                    });
                if (otlp) metrics.AddOtlpExporter();
            });
        // OpenTelemetry listens to every meter of a name in the process, while each host creates its own through its
        // IMeterFactory (ours, ASP.NET Core's). A process holding several hosts (the test suite) would mix their
        // measurements in one stream, and the first host to stop would end the stream for all: each exports its own.
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, metrics) =>
        {
            var own = services.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument => instrument.Meter.Scope is IMeterFactory other && other != own ? MetricStreamConfiguration.Drop : null);
        });
        if (otlp)
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = http => !IsProbe(http.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter());
        return builder;
    }

    public static void MapTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TelemetryExporters>().Prometheus)
            app.MapPrometheusScrapingEndpoint(ScrapePath).WithMetadata(new Microsoft.AspNetCore.Routing.HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
    }

    /// <summary>Probes and scrapes every few seconds would drown the traces worth reading.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments(ScrapePath, StringComparison.OrdinalIgnoreCase);
}

/// <summary>What <see cref="TelemetryRegistration.AddTelemetry"/> decided, for mapping the endpoint to match.</summary>
internal sealed record TelemetryExporters(bool Prometheus, bool Otlp);
