using System.Net;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>
/// The token store's own reads: a token read by hand is tracked like one EF read, and a read inside a transaction sees
/// what the transaction wrote (outside one, the reads go through a pool of their own).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TokenStoreTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task RevokingATokenReadByHand_KeepsItsClientAndAuthorization()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(client, user);
        var before = await AccessTokenRowAsync(user.Id);
        Assert.NotNull(before.ApplicationId);
        Assert.NotNull(before.AuthorizationId);

        // Revocation finds the row by id (the JWT's entry), then writes it back whole with its new status.
        Assert.Equal(HttpStatusCode.OK, (await protocol.RevokeAsync(client, tokens.AccessToken!, "access_token")).Status);

        var after = await AccessTokenRowAsync(user.Id);
        Assert.Equal(TokenRow.Revoked, after.Status);
        Assert.Equal(before.ApplicationId, after.ApplicationId);
        Assert.Equal(before.AuthorizationId, after.AuthorizationId);
    }

    [Fact]
    public async Task ATokenWrittenInsideATransaction_IsFoundByIdInsideIt_AndNowhereElse()
    {
        var client = await data.ClientAsync();
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var application = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().SingleAsync(a => a.ClientId == client.ClientId);
        await using var transaction = await db.Database.BeginTransactionAsync();
        var token = new OpenIddictEntityFrameworkCoreToken<Guid>
        {
            Application = application, Status = TokenRow.Valid, Type = TokenRow.AccessToken, Subject = "in-transaction",
            CreationDate = DateTime.UtcNow, ExpirationDate = DateTime.UtcNow.AddMinutes(5),
        };
        db.Add(token);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();

        var inside = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().FindByIdAsync(token.Id.ToString());
        await using var other = server.Services.CreateAsyncScope();
        var outside = await other.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().FindByIdAsync(token.Id.ToString());

        Assert.Equal("in-transaction", Assert.IsType<OpenIddictEntityFrameworkCoreToken<Guid>>(inside).Subject);
        Assert.Null(outside);
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task InsideATransaction_AnAccessTokenIsReadFromTheDatabase_NotFromTheNodesCopy()
    {
        // The transaction's own change is announced only when it commits: the node's copy would still say valid.
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var tokens = await protocol.PasswordGrantAsync(client, user);
        Assert.Equal(HttpStatusCode.OK, (await protocol.UserInfoAsync(tokens.AccessToken!)).Status);
        var id = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.AccessToken!).GetClaim("oi_tkn_id").Value;
        Assert.NotNull(server.Services.GetRequiredService<AccessTokenEntries>().Get(Guid.Parse(id)));
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE \"OpenIddictTokens\" SET \"Status\" = 'revoked' WHERE \"Id\" = {Guid.Parse(id)}");

        var inside = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().FindByIdAsync(id);

        Assert.Equal(TokenRow.Revoked, Assert.IsType<OpenIddictEntityFrameworkCoreToken<Guid>>(inside).Status);
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task ATokenReadByHand_CarriesItsRowAsStored_WithItsAuthorizationAndPerson()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await protocol.PasswordGrantAsync(client, user);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var stored = await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking().Include(t => t.Authorization)
            .SingleAsync(t => t.Subject == user.Id && t.Type == TokenRow.RefreshToken);
        var person = await db.Users.AsNoTracking().SingleAsync(u => u.Id == user.Id);
        // New rows are made without the entity's constructor too, and stamped when written.
        Assert.All(await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking().Where(t => t.Subject == user.Id).ToListAsync(),
            t => Assert.False(string.IsNullOrEmpty(t.ConcurrencyToken)));

        var read = await scope.ServiceProvider.GetRequiredService<TokenQueries>().ByReferenceId(db, stored.ReferenceId!, CancellationToken.None);

        // Every column as stored: the entities are filled from the row without their constructors, whose random
        // concurrency stamps and ids a forgotten column would otherwise keep.
        Assert.NotNull(read);
        Assert.Equivalent(Columns(stored), Columns(read.Token), strict: true);
        Assert.Equivalent(Columns(stored.Authorization!), Columns(read.Token.Authorization!), strict: true);
        Assert.Equivalent(person, read.User, strict: true);
        Assert.True(read.Untracked);
    }

    private static object Columns(OpenIddictEntityFrameworkCoreToken<Guid> t) => new
    {
        t.Id, t.ConcurrencyToken, t.CreationDate, t.ExpirationDate, t.Payload, t.Properties, t.RedemptionDate, t.ReferenceId, t.Status, t.Subject, t.Type,
    };

    private static object Columns(OpenIddictEntityFrameworkCoreAuthorization<Guid> a) => new
    {
        a.Id, a.ConcurrencyToken, a.CreationDate, a.Properties, a.Scopes, a.Status, a.Subject, a.Type,
    };

    private async Task<(string? Status, Guid? ApplicationId, Guid? AuthorizationId)> AccessTokenRowAsync(string subject)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var row = await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking()
            .Where(t => t.Subject == subject && t.Type == TokenRow.AccessToken)
            .Select(t => new { t.Status, ApplicationId = EF.Property<Guid?>(t, "ApplicationId"), AuthorizationId = EF.Property<Guid?>(t, "AuthorizationId") })
            .SingleAsync();
        return (row.Status, row.ApplicationId, row.AuthorizationId);
    }
}
