using Identity.Server.Email;
using Identity.Server.Persistence;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Email;

/// <summary>
/// SMTP as SPEC §5 configures it, against real servers on loopback: maildev for plain SMTP and implicit TLS, a
/// scripted <see cref="SmtpPeer"/> for STARTTLS (which maildev never offers), refusals and connection counting. Each
/// test has its own server on its own database, so these run beside the "server" collection.
/// </summary>
public sealed class SmtpDeliveryTests
{
    [Fact]
    public async Task SslOnConnect_ToAServerWithAPrivateCa_DeliversWithAuthentication()
    {
        using var certificates = new TestCertificates();
        await using var catcher = await MailCatcher.StartAsync("--incoming-secure", "--incoming-cert", certificates.CertificatePath,
            "--incoming-key", certificates.KeyPath, "--incoming-user", "mailer", "--incoming-pass", "mailer-password");
        await using var host = await MailHosts.SendingToAsync(catcher.SmtpPort, new Dictionary<string, string?>
        {
            ["Email:Smtp:Security"] = "SslOnConnect",
            ["Email:Smtp:TrustedCertificatePath"] = certificates.AuthorityPath,
            ["Email:Smtp:UserName"] = "mailer",
            ["Email:Smtp:Password"] = "mailer-password",
        });
        var to = AccountApi.NewEmail();

        await EnqueueAsync(host, to);

        Assert.Equal("Hello", (await catcher.WaitForMessageAsync(to)).Subject);
    }

    public static TheoryData<string> UntrustedCertificates => ["no trusted certificate configured", "another authority trusted", "issued for another host"];

    [Theory]
    [MemberData(nameof(UntrustedCertificates))]
    public async Task SslOnConnect_ToAServerWhoseCertificateIsNotTrusted_SendsNothing(string situation)
    {
        using var certificates = situation == "issued for another host" ? new TestCertificates("mail.example.test") : new TestCertificates();
        using var other = new TestCertificates();
        await using var catcher = await MailCatcher.StartAsync("--incoming-secure", "--incoming-cert", certificates.CertificatePath, "--incoming-key", certificates.KeyPath);
        var settings = new Dictionary<string, string?> { ["Email:Smtp:Security"] = "SslOnConnect" };
        if (situation != "no trusted certificate configured")
            settings["Email:Smtp:TrustedCertificatePath"] = situation == "another authority trusted" ? other.AuthorityPath : certificates.AuthorityPath;
        await using var host = await MailHosts.SendingToAsync(catcher.SmtpPort, settings);
        var to = AccountApi.NewEmail();

        var id = (await EnqueueAsync(host, to))[0];
        var row = await WaitForRowAsync(host, id, m => m.Attempts >= 2);

        Assert.Empty(await catcher.MessagesAsync());
        Assert.StartsWith("TLS handshake failed", row.LastError);
        Assert.Null(row.FailedAt); // a certificate problem is fixed by someone, after which the message goes out
    }

    [Theory]
    [InlineData("StartTls")]
    [InlineData(null)] // Auto
    public async Task StartTls_WhenOffered_IsUsedBeforeAnythingIsSent(string? security)
    {
        using var certificates = new TestCertificates();
        await using var peer = new SmtpPeer { StartTlsCertificate = certificates.Certificate };
        var settings = new Dictionary<string, string?> { ["Email:Smtp:TrustedCertificatePath"] = certificates.AuthorityPath };
        if (security is not null) settings["Email:Smtp:Security"] = security;
        await using var host = await MailHosts.SendingToAsync(peer.Port, settings);
        var to = AccountApi.NewEmail();

        await EnqueueAsync(host, to);
        await WaitAsync(() => peer.Messages.Count > 0);

        var message = Assert.Single(peer.Messages);
        Assert.True(message.OverTls);
        Assert.Equal([to], message.To);
        Assert.True(Index(peer.Commands, "STARTTLS") < Index(peer.Commands, "MAIL FROM"));
    }

    [Theory]
    [InlineData(null, false)] // Auto: the server offered no TLS
    [InlineData("None", true)] // plain SMTP chosen explicitly
    public async Task Credentials_AreSentUnencryptedOnlyWhenSecurityIsNone(string? security, bool sent)
    {
        await using var peer = new SmtpPeer { OffersAuth = true };
        var settings = new Dictionary<string, string?> { ["Email:Smtp:UserName"] = "mailer", ["Email:Smtp:Password"] = "mailer-password" };
        if (security is not null) settings["Email:Smtp:Security"] = security;
        await using var host = await MailHosts.SendingToAsync(peer.Port, settings);

        var id = (await EnqueueAsync(host, AccountApi.NewEmail()))[0];
        var row = await WaitForRowAsync(host, id, m => m.SentAt != null || m.LastError != null);

        Assert.Equal(sent, peer.Commands.Contains("AUTH"));
        Assert.Equal(sent, row.SentAt is not null);
        Assert.Equal(sent ? 1 : 0, peer.Messages.Count);
        if (!sent) Assert.Contains("credentials were not sent", row.LastError);
    }

    [Fact]
    public async Task RecipientRefusedWith5xx_IsMarkedFailedWithItsReason_NotRetried_AndLogged()
    {
        await using var peer = new SmtpPeer
        {
            RecipientReply = address => address.StartsWith("unknown-", StringComparison.Ordinal) ? $"550 5.1.1 <{address}>: Recipient address rejected: User unknown" : null,
        };
        var log = new LogRecorder();
        await using var host = await MailHosts.SendingToAsync(peer.Port, new Dictionary<string, string?> { ["Email:Smtp:Security"] = "None" }, log);
        var (refused, delivered) = ($"unknown-{Guid.NewGuid():N}@example.test", AccountApi.NewEmail());

        var ids = await EnqueueAsync(host, refused, delivered);
        await WaitForRowAsync(host, ids[0], m => m.FailedAt != null);
        await WaitAsync(() => peer.Messages.Any(m => m.To.Contains(delivered)));
        await Task.Delay(2000); // past the backoff of any retry, many dispatch runs later

        var row = await WaitForRowAsync(host, ids[0], _ => true);
        Assert.Null(row.SentAt);
        Assert.Equal(1, row.Attempts);
        Assert.Contains("550 5.1.1", row.LastError);
        Assert.Contains("User unknown", row.LastError);
        Assert.Single(peer.Commands, c => c.StartsWith($"RCPT TO:<{refused}>", StringComparison.Ordinal));
        var logged = Assert.Single(log.Entries, e => e.EventId.Name == "EmailRejected");
        Assert.Equal(ids[0], logged.State["MessageId"]);
        Assert.Contains("550 5.1.1", (string)logged.State["Error"]!);
        // The refusal did not cost the other message of the run its connection.
        Assert.Equal(1, peer.Connections);
    }

    [Fact]
    public async Task RecipientRefusedWith4xx_IsRetried_ThenDelivered()
    {
        var refusedOnce = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        await using var peer = new SmtpPeer
        {
            RecipientReply = address => refusedOnce.TryAdd(address, true) ? "450 4.2.0 Greylisted, try again later" : null,
        };
        await using var host = await MailHosts.SendingToAsync(peer.Port, new Dictionary<string, string?> { ["Email:Smtp:Security"] = "None" });
        var to = AccountApi.NewEmail();

        var id = (await EnqueueAsync(host, to))[0];
        var row = await WaitForRowAsync(host, id, m => m.SentAt != null);

        Assert.Equal(2, row.Attempts);
        Assert.Null(row.FailedAt);
        Assert.Contains("450 4.2.0", row.LastError);
        Assert.Single(peer.Messages);
    }

    [Fact]
    public async Task RecipientRefusedByPolicy_AsARelayWithoutLogin_IsRetried_NotLost()
    {
        // Postfix answers a client that has not logged in "554 5.7.1 Relay access denied" at RCPT: a forgotten
        // Email:Smtp:UserName, which refuses every message alike until it is fixed (RFC 3463: 5.7.x is security/policy).
        var refusedOnce = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        await using var peer = new SmtpPeer
        {
            RecipientReply = address => refusedOnce.TryAdd(address, true) ? $"554 5.7.1 <{address}>: Relay access denied" : null,
        };
        await using var host = await MailHosts.SendingToAsync(peer.Port, new Dictionary<string, string?> { ["Email:Smtp:Security"] = "None" });

        var id = (await EnqueueAsync(host, AccountApi.NewEmail()))[0];
        var row = await WaitForRowAsync(host, id, m => m.SentAt != null || m.FailedAt != null);

        Assert.Null(row.FailedAt);
        Assert.Equal(2, row.Attempts);
        Assert.Contains("554 5.7.1", row.LastError);
        Assert.Single(peer.Messages);
    }

    [Fact]
    public async Task ARunsMessages_ShareOneConnection()
    {
        await using var peer = new SmtpPeer();
        await using var host = await MailHosts.SendingToAsync(peer.Port, new Dictionary<string, string?> { ["Email:Smtp:Security"] = "None" });

        await EnqueueAsync(host, [.. Enumerable.Range(0, 5).Select(_ => AccountApi.NewEmail())]); // one SaveChanges: due together
        await WaitAsync(() => peer.Messages.Count == 5);
        await WaitAsync(() => peer.Commands.Contains("QUIT"));

        Assert.Equal(1, peer.Connections);
        Assert.Single(peer.Commands, c => c.StartsWith("EHLO", StringComparison.Ordinal));
    }

    /// <summary>Queues one message per address through the outbox, in one unit of work; returns their ids in order.</summary>
    private static async Task<Guid[]> EnqueueAsync(WebApplicationFactory<Program> host, params string[] to)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<EmailOutbox>();
        foreach (var address in to) outbox.Enqueue(new EmailMessage(address, "Hello", "Text body", "<p>HTML body</p>"));
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var ids = db.ChangeTracker.Entries<OutboxMessage>().ToDictionary(e => e.Entity.To, e => e.Entity.Id);
        await db.SaveChangesAsync();
        return [.. to.Select(address => ids[address])];
    }

    private static async Task<OutboxMessage> WaitForRowAsync(WebApplicationFactory<Program> host, Guid id, Func<OutboxMessage, bool> condition)
    {
        var data = new TestData(host);
        OutboxMessage? row = null;
        await WaitAsync(async () => (row = await data.DbAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == id))) is { } r && condition(r));
        return row!;
    }

    private static Task WaitAsync(Func<bool> condition) => WaitAsync(() => Task.FromResult(condition()));

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        if (!await Eventually.TrueAsync(condition, 150, TimeSpan.FromMilliseconds(200))) throw new TimeoutException("condition not met");
    }

    private static int Index(IReadOnlyList<string> commands, string prefix)
    {
        for (var i = 0; i < commands.Count; i++)
            if (commands[i].StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return i;
        return int.MaxValue;
    }
}
