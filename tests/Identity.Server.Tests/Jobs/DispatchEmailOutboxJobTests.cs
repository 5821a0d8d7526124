using System.Net;
using Identity.Server.Accounts;
using Identity.Server.Email;
using Identity.Server.Jobs;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Jobs;

/// <summary>
/// Account links (SPEC §3) are written by the dispatch job, not by the request that asks for them: the request stores
/// the same row for any address, so it cannot tell by its timing whether the address has an account, and the raw token
/// reaches the database only as its hash. These hosts have a database of their own and no scheduler: each test runs
/// the job itself, so that it sees what a request left before the job touched it.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class DispatchEmailOutboxJobTests(ServerFixture server)
{
    [Fact]
    public async Task Forgot_StoresTheSameRequestForAnyAddress_AndTheJobSendsTheLinkOnlyToAnAccount()
    {
        await using var host = await HostAsync();
        var (api, data) = (new AccountApi(host.HttpsClient(), server.Mail), new TestData(host));
        var (user, unknown) = (await data.UserAsync(), AccountApi.NewEmail());

        foreach (var email in new[] { user.Email, unknown })
            Assert.Equal(HttpStatusCode.Accepted, (await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email })).Response.StatusCode);

        await AssertOnlyRequestsQueuedAsync(data, AccountTokenPurpose.ResetPassword, user, [user.Email, unknown]);
        await DispatchAsync(host);

        var link = await api.LinkAsync(user.Email, "/account/reset-password");
        var (reset, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = "an entirely new passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.False(await data.DbAsync(db => db.OutboxMessages.AnyAsync(m => m.To == unknown))); // dropped, not kept
        Assert.Equal(0, await api.CountMessagesAsync(unknown));
    }

    [Fact]
    public async Task Resend_StoresTheSameRequestForAnyAddress_AndTheJobSendsTheLinkOnlyToAnUnconfirmedAccount()
    {
        await using var host = await HostAsync();
        var (api, data) = (new AccountApi(host.HttpsClient(), server.Mail), new TestData(host));
        var (unconfirmed, confirmed, unknown) = (await data.UserAsync(emailConfirmed: false), await data.UserAsync(), AccountApi.NewEmail());

        foreach (var email in new[] { unconfirmed.Email, confirmed.Email, unknown })
            Assert.Equal(HttpStatusCode.Accepted, (await api.SendAsync(HttpMethod.Post, "/api/account/confirm-email/resend", new { email })).Response.StatusCode);

        await AssertOnlyRequestsQueuedAsync(data, AccountTokenPurpose.ConfirmEmail, unconfirmed, [unconfirmed.Email, confirmed.Email, unknown]);
        await DispatchAsync(host);

        var link = await api.LinkAsync(unconfirmed.Email, "/account/confirm-email");
        var (confirm, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.False(await data.DbAsync(db => db.OutboxMessages.AnyAsync(m => m.To == confirmed.Email || m.To == unknown)));
        Assert.Equal(0, await api.CountMessagesAsync(confirmed.Email));
        Assert.Equal(0, await api.CountMessagesAsync(unknown));
    }

    [Fact]
    public async Task Registration_QueuesItsConfirmationLinkWithoutAToken_AndTheJobSendsOne()
    {
        // The registration's own row is queued in its transaction (SPEC §6) and carries no token; the job issues it.
        await using var host = await HostAsync();
        var (api, data) = (new AccountApi(host.HttpsClient(), server.Mail), new TestData(host));
        var email = AccountApi.NewEmail();
        var (registered, json) = await api.RegisterAsync(email);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var user = new TestUser(json.GetProperty("id").GetString()!, email, email, TestData.DefaultPassword);

        await AssertOnlyRequestsQueuedAsync(data, AccountTokenPurpose.ConfirmEmail, user, [email]);
        await DispatchAsync(host);

        var link = await api.LinkAsync(email, "/account/confirm-email");
        var (confirm, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
    }

    [Fact]
    public async Task LinkNotSent_IsRetriedWithAFreshToken_AndOnlyTheSentOneWorks()
    {
        await using var catcher = await MailCatcher.StartAsync();
        await using var host = await HostAsync(catcher);
        var (api, data) = (new AccountApi(host.HttpsClient(), catcher), new TestData(host));
        var user = await data.UserAsync();
        await catcher.StopServerAsync();

        await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email = user.Email });
        await DispatchAsync(host);
        var failed = await data.DbAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.To == user.Email));
        Assert.Equal(1, failed.Attempts);
        Assert.Null(failed.SentAt);
        await catcher.StartServerAsync();
        await Task.Delay(failed.NextAttemptAt - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero);
        await DispatchAsync(host);

        var link = await api.LinkAsync(user.Email, "/account/reset-password");
        Assert.Equal(1, await api.CountMessagesAsync(user.Email));
        // The first attempt's token was issued and never delivered; the one sent ended it (a new link ends the previous).
        Assert.Equal(2, await data.DbAsync(db => db.AccountTokens.CountAsync(t => t.UserId == user.Id)));
        Assert.Equal(1, await data.DbAsync(db => db.AccountTokens.CountAsync(t => t.UserId == user.Id && t.UsedAt == null)));
        var (reset, _) = await api.SendAsync(HttpMethod.Post, "/api/account/password/reset", new { userId = link.UserId, token = link.Token, newPassword = "an entirely new passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
    }

    [Fact]
    public async Task MessagesDoneWith_KeepNoBodies_SoNoLinkTokenStaysInTheDatabase()
    {
        await using var host = await HostAsync();
        var (api, data) = (new AccountApi(host.HttpsClient(), server.Mail), new TestData(host));
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email); // queued with its confirmation link, in the registration's transaction
        Guid refused;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Identity.Server.Persistence.ServerDbContext>();
            scope.ServiceProvider.GetRequiredService<EmailOutbox>().Enqueue(new EmailMessage("not an address", "Hello", "a link", "<p>a link</p>"));
            refused = db.ChangeTracker.Entries<OutboxMessage>().Single().Entity.Id;
            await db.SaveChangesAsync();
        }

        await DispatchAsync(host);

        var link = await api.LinkAsync(email, "/account/confirm-email");
        var rows = await data.DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.To == email || m.Id == refused).ToListAsync());
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.True(row.SentAt is not null || row.FailedAt is not null));
        Assert.All(rows, row => Assert.Null(row.TextBody));
        Assert.All(rows, row => Assert.Null(row.HtmlBody));
        Assert.False(await data.DbAsync(db => db.OutboxMessages.AnyAsync(m => m.TextBody!.Contains(link.Token) || m.HtmlBody!.Contains(link.Token))));
    }

    [Fact]
    public async Task Emails_StateTheConfiguredLinkLifetimes()
    {
        await using var host = await HostAsync(settings: new Dictionary<string, string?>
        {
            ["Accounts:EmailConfirmationLinkLifetime"] = "00:00:06",
            ["Accounts:PasswordResetLinkLifetime"] = "00:45:00",
        });
        var api = new AccountApi(host.HttpsClient(), server.Mail);
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        await DispatchAsync(host);
        await api.LinkAsync(email, "/account/confirm-email");
        await api.SendAsync(HttpMethod.Post, "/api/account/password/forgot", new { email });
        await DispatchAsync(host);
        await api.LinkAsync(email, "/account/reset-password");

        var texts = (await server.Mail.MessagesAsync()).Where(m => m.To.Any(t => t.Address == email)).Select(m => m.Text).ToList();
        Assert.Contains(texts, text => text!.Contains("It works once, for 6 seconds."));
        Assert.Contains(texts, text => text!.Contains("it works once, for 45 minutes."));
    }

    [Fact]
    public async Task SlowRun_EachClaimsLeaseCountsFromItsOwnClaim_SoAnotherNodeDoesNotSendTheLastMessageAgain()
    {
        // SPEC §6: sent once with any number of nodes. Three sends of 70 s (under the 60 s SendTimeout each plus
        // connecting) outlast the 2-minute lease; the third message is claimed 140 s into the run. Another node runs
        // while it is being sent, as after Quartz recovered a node it took for dead.
        await using var host = await HostAsync();
        var ids = await EnqueueAsync(host, 3);
        var time = Clock();
        var sends = new List<(string Node, Guid Id)>();
        var leases = new List<(DateTimeOffset? ClaimedUntil, DateTimeOffset SendingAt)>();
        var other = new ScriptedTransport(message => { sends.Add(("b", message.Id)); return Task.FromResult(DeliveryOutcome.Sent); });
        var slow = new ScriptedTransport(async message =>
        {
            sends.Add(("a", message.Id));
            leases.Add((await ClaimedUntilAsync(host, message.Id), time.GetUtcNow()));
            time.Advance(TimeSpan.FromSeconds(70));
            if (sends.Count == 3) await DispatchAsync(host, other, time);
            return DeliveryOutcome.Sent;
        });

        await DispatchAsync(host, slow, time);

        Assert.Equal(ids.Order(), sends.Select(s => s.Id).Order());
        Assert.All(sends, s => Assert.Equal("a", s.Node));
        Assert.All(leases, lease => Assert.Equal(lease.SendingAt + TimeSpan.FromMinutes(2), lease.ClaimedUntil));
        var rows = await new TestData(host).DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => ids.Contains(m.Id)).ToListAsync());
        Assert.All(rows, row => Assert.Equal(1, row.Attempts));
        Assert.All(rows, row => Assert.NotNull(row.SentAt));
    }

    [Fact]
    public async Task OutcomeAfterTheLeaseRanOut_DoesNotOverwriteTheNodeThatTookTheMessageOver()
    {
        // One send outlasts the lease (a stalled node) and then fails; meanwhile another node has claimed the message
        // and is sending it. The late failure must not clear that node's claim: a third node would send it again.
        await using var host = await HostAsync();
        var id = (await EnqueueAsync(host, 1)).Single();
        var time = Clock();
        var sends = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var (bSending, aRecorded) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Task? b = null;
        var nodeB = new ScriptedTransport(async _ =>
        {
            sends.Enqueue("b");
            bSending.SetResult();
            await aRecorded.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return DeliveryOutcome.Sent;
        });
        var nodeA = new ScriptedTransport(async _ =>
        {
            sends.Enqueue("a");
            time.Advance(TimeSpan.FromMinutes(3)); // past the 2-minute lease
            b = Task.Run(() => DispatchAsync(host, nodeB, time));
            await bSending.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return DeliveryOutcome.Deferred("421 timed out");
        });

        await DispatchAsync(host, nodeA, time);
        time.Advance(TimeSpan.FromSeconds(30)); // past the failed attempt's backoff, well within node B's lease
        await DispatchAsync(host, new ScriptedTransport(_ => { sends.Enqueue("c"); return Task.FromResult(DeliveryOutcome.Sent); }), time);
        aRecorded.SetResult();
        await b!;

        Assert.Equal(["a", "b"], sends.ToArray());
        var row = await new TestData(host).DbAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == id));
        Assert.NotNull(row.SentAt);
        Assert.Null(row.ClaimedUntil);
        Assert.Null(row.LastError);
    }

    [Theory]
    [InlineData("1.00:00:00", "24 hours")]
    [InlineData("01:00:00", "1 hour")]
    [InlineData("2.00:00:00", "48 hours")]
    [InlineData("7.00:00:00", "7 days")]
    [InlineData("01:30:00", "1 hour and 30 minutes")]
    [InlineData("3.02:00:01", "3 days, 2 hours and 1 second")]
    [InlineData("00:45:00", "45 minutes")]
    [InlineData("00:00:06", "6 seconds")]
    public void LinkLifetime_InWords(string lifetime, string words) => Assert.Equal(words, AccountEmails.InWords(TimeSpan.Parse(lifetime)));

    /// <summary>Asked-for links are rows naming the link and the address, nothing more; no token was issued for them yet.</summary>
    private static async Task AssertOnlyRequestsQueuedAsync(TestData data, AccountTokenPurpose purpose, TestUser user, string[] addresses)
    {
        var rows = await data.DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => addresses.Contains(m.To)).ToListAsync());
        Assert.Equal(addresses.Order(), rows.Select(r => r.To).Order());
        Assert.All(rows, row =>
        {
            Assert.Equal(purpose, row.Link);
            Assert.Null(row.Subject);
            Assert.Null(row.TextBody);
            Assert.Null(row.HtmlBody);
        });
        Assert.Equal(0, await data.DbAsync(db => db.AccountTokens.CountAsync(t => t.UserId == user.Id && t.Purpose == purpose)));
    }

    private async Task<WebApplicationFactory<Program>> HostAsync(MailCatcher? catcher = null, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Email:Smtp:Security"] = "None" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var host = await MailHosts.SendingToAsync((catcher ?? server.Mail).SmtpPort, all);
        return host.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
        {
            foreach (var scheduling in services.Where(d => d.ImplementationType == typeof(JobScheduling)).ToList()) services.Remove(scheduling);
        }));
    }

    private static async Task DispatchAsync(WebApplicationFactory<Program> host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<DispatchEmailOutboxJob>(scope.ServiceProvider).RunAsync(CancellationToken.None);
    }

    /// <summary>One node's run, with its own transport, on a clock the test moves.</summary>
    private static async Task DispatchAsync(WebApplicationFactory<Program> host, IEmailTransport transport, TimeProvider time)
    {
        await using var scope = host.Services.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<DispatchEmailOutboxJob>(scope.ServiceProvider, transport, time).RunAsync(CancellationToken.None);
    }

    /// <summary>
    /// A clock that starts after the messages were queued, on a whole second: PostgreSQL keeps microseconds, so that
    /// an instant read back equals the one the job computed.
    /// </summary>
    private static TestTimeProvider Clock()
    {
        var start = DateTimeOffset.UtcNow.AddSeconds(2);
        return new TestTimeProvider(new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
    }

    private static async Task<Guid[]> EnqueueAsync(WebApplicationFactory<Program> host, int count)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Identity.Server.Persistence.ServerDbContext>();
        for (var i = 0; i < count; i++)
            scope.ServiceProvider.GetRequiredService<EmailOutbox>().Enqueue(new EmailMessage(AccountApi.NewEmail(), "Hello", "text", "<p>html</p>"));
        var ids = db.ChangeTracker.Entries<OutboxMessage>().Select(e => e.Entity.Id).ToArray();
        await db.SaveChangesAsync();
        return ids;
    }

    private static Task<DateTimeOffset?> ClaimedUntilAsync(WebApplicationFactory<Program> host, Guid id) =>
        new TestData(host).DbAsync(db => db.OutboxMessages.Where(m => m.Id == id).Select(m => m.ClaimedUntil).SingleAsync());

    /// <summary>A mail system that does what the test says with each message.</summary>
    private sealed class ScriptedTransport(Func<OutboxMessage, Task<DeliveryOutcome>> send) : IEmailTransport, IEmailBatch
    {
        public IEmailBatch BeginBatch() => this;
        public Task<DeliveryOutcome> SendAsync(OutboxMessage message, CancellationToken ct) => send(message);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
