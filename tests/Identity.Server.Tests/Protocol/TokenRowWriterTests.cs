using System.Security.Cryptography;
using Identity.Server.Protocol.Issuance;
using TokenRow = Identity.Server.Protocol.Issuance.Token;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Protocol;

/// <summary>The group commit behind client_credentials rows and refresh token redemptions, on PostgreSQL.</summary>
[Collection(ServerCollection.Name)]
public sealed class TokenRowWriterTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private TokenRowWriter Writer => server.Services.GetRequiredService<TokenRowWriter>();
    // PostgreSQL keeps microseconds: an instant with less precision reads back equal.
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    [Fact]
    public async Task ARow_ReadsBackThroughEfCore_ExactlyAsWritten()
    {
        // The writer bypasses EF Core's mapping on PostgreSQL; every column must still mean what EF Core reads.
        var row = Row(TokenStatus.Redeemed);
        row.AuthorizationId = Guid.CreateVersion7();
        row.Type = TokenType.AuthorizationCode;
        row.Scopes = ["openid", "offline_access", "api1"];
        row.RedeemedAt = Now.AddSeconds(3);
        row.SuccessorSeed = RandomNumberGenerator.GetBytes(32);
        row.Payload = """{"redirect_uri":"https://app.test/cb"}""";

        await Writer.WriteAsync(row, CancellationToken.None);

        var read = await data.DbAsync(db => db.Tokens.AsNoTracking().SingleAsync(t => t.Id == row.Id));
        Assert.Equivalent(row, read, strict: true);
    }

    [Fact]
    public async Task ConcurrentRedemptionsOfOneToken_ExactlyOneCommits_WithItsRowsOnly()
    {
        var token = Row(TokenStatus.Valid);
        await Writer.WriteAsync(token, CancellationToken.None);

        // Queued together, so that some share a group.
        var attempts = Enumerable.Range(0, 10).Select(_ =>
        {
            var (seed, successor) = (RandomNumberGenerator.GetBytes(32), Row(TokenStatus.Valid));
            return (Seed: seed, Successor: successor, Write: Writer.RedeemAsync(new Redemption(token.Id, Now, seed), [successor], CancellationToken.None));
        }).ToList();
        var outcomes = await Task.WhenAll(attempts.Select(async a => await Outcome(a.Write)));

        var winner = Assert.Single(attempts, a => a.Write.IsCompletedSuccessfully);
        Assert.All(outcomes.Where(o => o is not null), o => Assert.IsType<DbUpdateConcurrencyException>(o));
        var successors = attempts.Select(a => a.Successor.Id).ToList();
        var written = await data.DbAsync(db => db.Tokens.Where(t => successors.Contains(t.Id)).Select(t => t.Id).ToListAsync());
        Assert.Equal([winner.Successor.Id], written);
        var redeemed = await data.DbAsync(db => db.Tokens.AsNoTracking().SingleAsync(t => t.Id == token.Id));
        Assert.Equal(TokenStatus.Redeemed, redeemed.Status);
        Assert.Equal(winner.Seed, redeemed.SuccessorSeed);
        Assert.Equal(Now, redeemed.RedeemedAt);
    }

    [Fact]
    public async Task RedeemingARevokedToken_WritesNothing_AndFailsNoOtherWrite()
    {
        var revoked = Row(TokenStatus.Revoked);
        await Writer.WriteAsync(revoked, CancellationToken.None);

        var (successor, bystander) = (Row(TokenStatus.Valid), Row(TokenStatus.Valid));
        var redemption = Writer.RedeemAsync(new Redemption(revoked.Id, Now, RandomNumberGenerator.GetBytes(32)), [successor], CancellationToken.None);
        var written = Writer.WriteAsync(bystander, CancellationToken.None);

        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => redemption);
        await written;
        var ids = new[] { successor.Id, bystander.Id };
        Assert.Equal([bystander.Id], await data.DbAsync(db => db.Tokens.Where(t => ids.Contains(t.Id)).Select(t => t.Id).ToListAsync()));
        var unchanged = await data.DbAsync(db => db.Tokens.AsNoTracking().SingleAsync(t => t.Id == revoked.Id));
        Assert.Equal(TokenStatus.Revoked, unchanged.Status);
        Assert.Null(unchanged.RedeemedAt);
        Assert.Null(unchanged.SuccessorSeed);
    }

    [Fact]
    public async Task ARowTheDatabaseRefuses_FailsOnlyItsOwnWrite()
    {
        var existing = Row(TokenStatus.Valid);
        await Writer.WriteAsync(existing, CancellationToken.None);

        // Queued together, so that they share a group: a duplicate key and a good row.
        var copy = Row(TokenStatus.Valid);
        copy.Id = existing.Id;
        var duplicate = Writer.WriteAsync(copy, CancellationToken.None);
        var good = Row(TokenStatus.Valid);
        var written = Writer.WriteAsync(good, CancellationToken.None);

        await Assert.ThrowsAnyAsync<DbUpdateException>(() => duplicate);
        await written;
        Assert.True(await data.DbAsync(db => db.Tokens.AnyAsync(t => t.Id == good.Id)));
    }

    private static async Task<Exception?> Outcome(Task write)
    {
        try
        {
            await write;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static TokenRow Row(TokenStatus status) => new()
    {
        Id = Guid.CreateVersion7(), ClientId = "token-writer-test", SubjectId = "token-writer-test", Type = TokenType.RefreshToken, Status = status,
        Hash = RandomNumberGenerator.GetBytes(32), Scopes = ["offline_access"], CreatedAt = Now, ExpiresAt = Now.AddMinutes(5),
    };
}
