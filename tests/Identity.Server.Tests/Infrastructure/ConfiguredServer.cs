using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>A server host with exactly the given settings, for tests that need their own database or configuration.</summary>
public sealed class ConfiguredServer : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> settings;

    /// <param name="settings">
    /// Unless they say something about <c>DataProtection</c>, the host gets the suite's shared certificate, as the
    /// fixture's does: outside Development the server does not start without one.
    /// </param>
    public ConfiguredServer(IDictionary<string, string?> settings)
    {
        this.settings = new Dictionary<string, string?>(settings);
        if (!settings.Keys.Any(IsDataProtection))
            foreach (var (key, value) in KeyRingCertificates.Shared.Settings()) this.settings[key] = value;
        ClientOptions.BaseAddress = new Uri("https://localhost");
        ClientOptions.AllowAutoRedirect = false;
    }

    public static ConfiguredServer OnPostgres(string connectionString, IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Identity"] = connectionString,
            ["Identity:Issuer"] = "https://localhost/",
            ["Jobs:Prune:Enabled"] = "false",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>()) settings[key] = value;
        return new ConfiguredServer(settings);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(settings));
        // Registration code reads some settings (job schedules and store, certificates, exporters) before
        // ConfigureAppConfiguration applies; UseSetting is seen early.
        foreach (var (key, value) in settings.Where(s => IsEarly(s.Key))) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.ClearProviders().AddFilter(_ => false));
    }

    private static bool IsDataProtection(string key) => key.StartsWith("DataProtection:", StringComparison.Ordinal);

    private static bool IsEarly(string key) => key == "Database:Provider" || IsDataProtection(key)
        || key.StartsWith("Jobs:", StringComparison.Ordinal) || key.StartsWith("Telemetry:", StringComparison.Ordinal)
        || key.StartsWith("OTEL_", StringComparison.Ordinal);
}
