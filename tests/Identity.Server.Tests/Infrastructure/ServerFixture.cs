using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// The server under test on a uniquely named PostgreSQL database with the real migrations applied at start-up,
/// shared by every class in the "server" collection. Tests that move the clock get their own host with
/// <see cref="WithTime"/>, on the same database.
/// </summary>
public class ServerFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    public TestPostgres.Server Postgres { get; private set; } = null!;
    public string DatabaseName { get; private set; } = "";
    /// <summary>The real SMTP server every host of this fixture sends to.</summary>
    public MailCatcher Mail { get; private set; } = null!;
    public string ConnectionString => Postgres.ConnectionString(DatabaseName);

    /// <summary>Extra settings a derived fixture or a test host needs.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        Postgres = await TestPostgres.GetAsync();
        DatabaseName = await Postgres.CreateDatabaseAsync("identity_test");
        Mail = await MailCatcher.StartAsync();
        ClientOptions.BaseAddress = new Uri("https://localhost");
        ClientOptions.AllowAutoRedirect = false;
        _ = Server; // boot now, so a start-up failure fails the fixture with its own message
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, configuration) =>
        {
            var settings = new Dictionary<string, string?>
            {
                ["Database:Provider"] = "Postgres",
                ["ConnectionStrings:Identity"] = ConnectionString,
                ["Identity:Issuer"] = "https://localhost/",
                ["Identity:Scopes:0:Name"] = TestData.ApiScope,
                ["Identity:Scopes:0:Resources:0"] = TestData.ApiResource,
                // Tests sign in far more often than a person; the per-user-name limit has its own test.
                ["Identity:RateLimits:PasswordGrant:PerAddressPerMinute"] = "100000",
                ["Identity:RateLimits:PasswordGrant:PerUserNamePerMinute"] = "1000",
                ["Email:From"] = "identity@example.test",
                ["Email:Smtp:Host"] = "127.0.0.1",
                ["Email:Smtp:Port"] = Mail.SmtpPort.ToString(),
                ["Email:Smtp:Security"] = "None",
                ["Jobs:Email:FirstBackoff"] = "00:00:00.500",
                ["Jobs:Email:MaxBackoff"] = "00:00:02",
            };
            foreach (var (key, value) in Settings) settings[key] = value;
            configuration.AddInMemoryCollection(settings);
        });
        // Registration code reads some settings (job schedules) before ConfigureAppConfiguration applies; UseSetting is seen early.
        foreach (var (key, value) in EarlySettings) builder.UseSetting(key, value);
        // TEST_LOGS=Warning (or any level) shows the server's logs from that level up on the console, for debugging.
        builder.ConfigureLogging(logging => logging.ClearProviders().AddFilter(level =>
            Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("TEST_LOGS"), out var minimum) && level >= minimum).AddConsole());
    }

    private IEnumerable<KeyValuePair<string, string?>> EarlySettings =>
    [
        new("Database:Provider", "Postgres"), // decides the job store
        new("Jobs:Email:Interval", "00:00:00.200"),
        new("Jobs:Prune:Enabled", "false"), // tests run it directly, with the clock they need
        // The production path: the key ring encrypted with a certificate, and the metrics served.
        .. KeyRingCertificates.Shared.Settings(),
        new("Telemetry:Prometheus:Enabled", "true"),
    ];

    public WebApplicationFactory<Program> WithTime(TimeProvider time) =>
        WithWebHostBuilder(builder => builder.ConfigureServices(services => WithoutJobs(services).AddSingleton(time)));

    public WebApplicationFactory<Program> WithSettings(IDictionary<string, string?> settings) =>
        WithWebHostBuilder(builder => builder
            .ConfigureAppConfiguration((_, c) => c.AddInMemoryCollection(settings))
            .ConfigureServices(services => WithoutJobs(services)));

    /// <summary>
    /// A short-lived test host does not join the job cluster of the fixture's database: the fixture's own host runs
    /// the outbox for all of them (on the real clock, as every production node would), and tests run the prune
    /// directly. Hosts joining and leaving the cluster test after test only made delivery depend on their shutdowns.
    /// </summary>
    private static IServiceCollection WithoutJobs(IServiceCollection services)
    {
        foreach (var scheduling in services.Where(d => d.ImplementationType == typeof(Identity.Server.Jobs.JobScheduling)).ToList()) services.Remove(scheduling);
        return services;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Mail.DisposeAsync();
        await Postgres.DropDatabaseAsync(DatabaseName);
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
