using Identity.Server.Jobs;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Jobs;

[Collection(ServerCollection.Name)]
public sealed class PruneExpiredGrantsJobTests(ServerFixture server)
{
    [Fact]
    public async Task Prune_RemovesOnlyWhatIsPastTheRetentionAge()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time).WithWebHostBuilder(b => b.UseSetting("Jobs:Prune:BatchSize", "2"));
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, old, recent) = (await data.ClientAsync(), await data.UserAsync(), await data.UserAsync());
        var oldTokens = await protocol.PasswordGrantAsync(client, old);
        await protocol.RefreshAsync(client, oldTokens.RefreshToken!);

        time.Advance(TimeSpan.FromDays(22)); // the old session's refresh tokens expired 15 days ago
        var recentTokens = await protocol.PasswordGrantAsync(client, recent);
        time.Advance(TimeSpan.FromDays(1));
        await ForgetLastRunAsync(host);
        var result = await RunAsync(host);

        Assert.NotNull(result);
        // Two access and two refresh tokens of the old session, in batches of two; other tests' old rows may go too.
        Assert.True(result.Tokens >= 4, $"{result.Tokens} tokens");
        Assert.True(result.Authorizations >= 1, $"{result.Authorizations} authorizations");
        Assert.Equal(0, await data.DbAsync(db => db.Tokens.CountAsync(t => t.SubjectId == old.Id)));
        Assert.Equal(0, await data.DbAsync(db => db.Authorizations.CountAsync(a => a.SubjectId == old.Id)));
        Assert.Equal(2, await data.DbAsync(db => db.Tokens.CountAsync(t => t.SubjectId == recent.Id)));
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, oldTokens.RefreshToken!)).Error);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await protocol.RefreshAsync(client, recentTokens.RefreshToken!)).Status);
    }

    [Fact]
    public async Task RedeemedTokens_StayForReuseDetection_WithinTheRetentionAge()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var (data, protocol) = (new TestData(host), new ProtocolClient(host.HttpsClient()));
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var first = await protocol.PasswordGrantAsync(client, user);
        var second = await protocol.RefreshAsync(client, first.RefreshToken!);

        time.Advance(TimeSpan.FromDays(2));
        await ForgetLastRunAsync(host);
        Assert.NotNull(await RunAsync(host));

        // The redeemed first token is still known, so presenting it is recognised as reuse and ends the session.
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, first.RefreshToken!)).Error);
        Assert.Equal("invalid_grant", (await protocol.RefreshAsync(client, second.RefreshToken!)).Error);
    }

    [Fact]
    public async Task TwoNodesAtOnce_PruneOnOneNodeOnly()
    {
        var time = new TestTimeProvider();
        await using var a = server.WithTime(time);
        await using var b = server.WithTime(time);
        await ForgetLastRunAsync(a);

        var results = await Task.WhenAll(RunAsync(a), RunAsync(b), RunAsync(a), RunAsync(b));

        Assert.Single(results, r => r is not null);
    }

    /// <summary>The tests share one database and so one lease; each starts a fresh interval.</summary>
    private static Task ForgetLastRunAsync(WebApplicationFactory<Program> host) =>
        new TestData(host).DbAsync(db => db.JobLeases.Where(l => l.Name == PruneExpiredGrantsJob.Name).ExecuteDeleteAsync());

    private static async Task<PruneResult?> RunAsync(WebApplicationFactory<Program> host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PruneExpiredGrantsJob>().RunAsync(CancellationToken.None);
    }
}
