using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Identity.Server.Email;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Identity.Server.Tests.Hosting;

[Collection(ServerCollection.Name)]
public sealed class HealthTests(ServerFixture server)
{
    private const string HealthCheckLog = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    [Fact]
    public async Task Live_AnswersOk()
    {
        var response = await server.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    public async Task HealthAndMetrics_TakeGetAndHead_AndRefuseOtherMethods(string path)
    {
        var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path))).StatusCode);
        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            var response = await http.SendAsync(new HttpRequestMessage(method, path));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Contains("GET", response.Content.Headers.Allow);
        }
    }

    [Fact]
    public async Task Ready_OnMigratedPostgres_AnswersOk_WithTheKeysLoaded()
    {
        var response = await server.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("keys");
        Assert.Equal("Healthy", keys.GetProperty("status").GetString());
        Assert.Contains("signing key", keys.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Ready_WithMigrationsPending_Answers503()
    {
        var name = await server.Postgres.CreateDatabaseAsync("pending");
        try
        {
            var log = new LogRecorder();
            await using var unmigrated = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(name),
                new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" }).WithWebHostBuilder(log.For("node"));
            var http = unmigrated.CreateClient();

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
            var ready = await http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var checks = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks");
            Assert.Equal("Unhealthy", checks.GetProperty("keys").GetProperty("status").GetString());
            Assert.Matches("^[1-9][0-9]* migration\\(s\\) not applied\\.$", checks.GetProperty("database").GetProperty("description").GetString());
            Assert.Equal("Not checked: migrations are pending.", checks.GetProperty("email_outbox").GetProperty("description").GetString());
            // A node started before its database is migrated is expected, and no reason for an error line: not at start
            // (the key ring), not per probe (the migrations history, the outbox). The health checks' own report of an
            // unhealthy check is ASP.NET Core's, at Error, and stays.
            var errors = log.Entries.Where(e => e.Level >= LogLevel.Error && e.Category != HealthCheckLog).ToList();
            Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Category} {e.EventId}: {e.State.GetValueOrDefault("{OriginalFormat}")}")));
            // Protocol requests wait for the keys too: 503 with Retry-After, not an answer signed with anything else.
            var discovery = await http.GetAsync("/.well-known/jwks");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, discovery.StatusCode);
            Assert.NotNull(discovery.Headers.RetryAfter);
            // So do the account API and the pages, whose tables (and Data Protection's key ring) are not there yet.
            var register = await http.PostAsJsonAsync("/api/account/register", new { email = "early@example.test", password = "a long enough passphrase" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, register.StatusCode);
            Assert.Equal("application/problem+json", register.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(register.Headers.RetryAfter);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/account/login")).StatusCode);
        }
        finally
        {
            await server.Postgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task Ready_OnADatabaseThatRefusesWrites_Answers503()
    {
        // A standby not promoted yet answers every read: the node looked ready, and answered every token request 503.
        var name = await server.Postgres.CreateDatabaseAsync("readonly");
        try
        {
            await using var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(name));
            var http = node.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
            await using (var admin = new Npgsql.NpgsqlConnection(server.Postgres.AdminConnectionString))
            {
                await admin.OpenAsync();
                await using var readOnly = new Npgsql.NpgsqlCommand($"ALTER DATABASE \"{name}\" SET default_transaction_read_only = on", admin);
                await readOnly.ExecuteNonQueryAsync();
            }
            Npgsql.NpgsqlConnection.ClearAllPools(); // as after a failover: new connections

            var ready = await http.GetAsync("/health/ready");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var database = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("database");
            Assert.Equal("The database refuses writes (read-only).", database.GetProperty("description").GetString());
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await server.Postgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task ANodeLeftToTheMigrateVerb_StartsBeforeItsDatabaseAnswers_NotReady()
    {
        // With Database:MigrateOnStartup=false a node waits for the migrations (above); one whose database is not up yet
        // has nothing else to wait for. Its start-up threw, and the process ended.
        await using var early = ConfiguredServer.OnPostgres("Host=127.0.0.1;Port=1;Username=identity;Password=unused;Database=identity;Timeout=2",
            new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" });
        var http = early.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Ready_WithAnEmailUnsentPastTheThreshold_ReportsDegraded_StillOk()
    {
        await WithUnsentEmailAsync(age: TimeSpan.FromMinutes(20), async () =>
        {
            var response = await server.CreateClient().GetAsync("/health/ready");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Degraded", report.GetProperty("status").GetString());
            var outbox = report.GetProperty("checks").GetProperty("email_outbox");
            Assert.Equal("Degraded", outbox.GetProperty("status").GetString());
            Assert.Contains("00:20:", outbox.GetProperty("description").GetString());
            Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        });
    }

    [Fact]
    public async Task Ready_EmailBacklogThreshold_IsConfigurable()
    {
        await WithUnsentEmailAsync(age: TimeSpan.FromMinutes(5), async () =>
        {
            await using var strict = server.WithSettings(new Dictionary<string, string?> { ["Health:EmailBacklogThreshold"] = "00:01:00" });

            Assert.Equal("Healthy", await StatusAsync(server.CreateClient())); // default: 15 minutes
            Assert.Equal("Degraded", await StatusAsync(strict.HttpsClient()));
        });
    }

    private static async Task<string?> StatusAsync(HttpClient http) =>
        JsonDocument.Parse(await http.GetStringAsync("/health/ready")).RootElement.GetProperty("status").GetString();

    /// <summary>An email queued <paramref name="age"/> ago and not due for a day, so that the dispatch job leaves it alone.</summary>
    private async Task WithUnsentEmailAsync(TimeSpan age, Func<Task> test)
    {
        var data = new TestData(server);
        var now = DateTimeOffset.UtcNow;
        var id = Guid.CreateVersion7();
        await data.DbAsync(db =>
        {
            db.OutboxMessages.Add(new OutboxMessage
            {
                Id = id, To = "backlog@example.test", Subject = "stuck", TextBody = "stuck", HtmlBody = "<p>stuck</p>",
                CreatedAt = now - age, NextAttemptAt = now + TimeSpan.FromDays(1),
            });
            return db.SaveChangesAsync();
        });
        try
        {
            await test();
        }
        finally
        {
            await data.DbAsync(db => db.OutboxMessages.Where(m => m.Id == id).ExecuteDeleteAsync());
        }
    }
}
