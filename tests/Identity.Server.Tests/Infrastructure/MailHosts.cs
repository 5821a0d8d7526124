using Microsoft.AspNetCore.Mvc.Testing;

namespace Identity.Server.Tests.Infrastructure;

public static class MailHosts
{
    /// <summary>
    /// A server on a database of its own that sends to the SMTP server on loopback <paramref name="smtpPort"/>, reading
    /// the outbox every 200 ms and retrying within a second. A database of its own because every node sending from one
    /// outbox is the design: on a shared database another host would deliver the messages.
    /// </summary>
    public static async Task<WebApplicationFactory<Program>> SendingToAsync(int smtpPort, IDictionary<string, string?>? settings = null, LogRecorder? log = null)
    {
        var postgres = await TestPostgres.GetAsync();
        var database = await postgres.CreateDatabaseAsync("mail");
        var all = new Dictionary<string, string?>
        {
            ["Email:From"] = "identity@example.test",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = smtpPort.ToString(),
            ["Jobs:Email:Interval"] = "00:00:00.200",
            ["Jobs:Email:FirstBackoff"] = "00:00:00.500",
            ["Jobs:Email:MaxBackoff"] = "00:00:01",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var host = ConfiguredServer.OnPostgres(postgres.ConnectionString(database), all);
        return log is null ? host : host.WithWebHostBuilder(log.For("mail"));
    }
}
