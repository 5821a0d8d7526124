using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

/// <summary>
/// SPEC §3: lockout after 5 failures for 15 minutes, counted by the password grant and the login page alike, however
/// many of them arrive at once.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LockoutTests(ServerFixture server)
{
    private readonly ProtocolClient protocol = new(server.CreateClient());
    private readonly TestData data = new(server);

    [Fact]
    public async Task ConcurrentWrongPasswords_EachCount()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        // Below the threshold, so that the count itself shows: each of them read the user before any of them wrote.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => protocol.PasswordGrantAsync(client, user with { Password = $"wrong {i}" })));

        Assert.Equal((4, (DateTimeOffset?)null), await StateAsync(user.Id));
    }

    [Fact]
    public async Task ManyConcurrentWrongPasswords_LockTheAccount()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());

        // The per-user-name rate limit lets 10 a minute through for each spelling of the login.
        var logins = new[] { user.UserName, user.Email };
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            protocol.PasswordGrantAsync(client, user with { UserName = logins[i % 2], Password = $"wrong {i}" })));

        Assert.All(answers, a => Assert.Equal("invalid_grant", a.Error));
        var (_, lockoutEnd) = await StateAsync(user.Id);
        Assert.True(lockoutEnd > DateTimeOffset.UtcNow.AddMinutes(14), $"locked until {lockoutEnd}");
        var rightPassword = await new ProtocolClient(server.CreateClient()).PasswordGrantAsync(client, user);
        Assert.Equal("invalid_grant", rightPassword.Error);
        Assert.Contains("locked", rightPassword.ErrorDescription, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task FailuresDuringTheLockout_AreNotCounted_AndDoNotExtendIt()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        for (var i = 0; i < 5; i++) await protocol.PasswordGrantAsync(client, user with { Password = $"wrong {i}" });
        var locked = await StateAsync(user.Id);

        await protocol.PasswordGrantAsync(client, user with { Password = "wrong again" });

        Assert.Equal(0, locked.Count);
        Assert.NotNull(locked.LockoutEnd);
        Assert.Equal(locked, await StateAsync(user.Id));
    }

    [Fact]
    public async Task RightPassword_ResetsTheCount()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        for (var i = 0; i < 4; i++) await protocol.PasswordGrantAsync(client, user with { Password = $"wrong {i}" });

        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);
        Assert.Equal((0, (DateTimeOffset?)null), await StateAsync(user.Id));
        await protocol.PasswordGrantAsync(client, user with { Password = "wrong once more" });
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);
    }

    private async Task<(int Count, DateTimeOffset? LockoutEnd)> StateAsync(string userId)
    {
        var row = await data.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.AccessFailedCount, u.LockoutEnd }).SingleAsync());
        return (row.AccessFailedCount, row.LockoutEnd);
    }
}
