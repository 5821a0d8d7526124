using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>The group writer of new token rows: rows of concurrent sign-ins share a statement, not a fate.</summary>
[Collection(ServerCollection.Name)]
public sealed class TokenRowWriterTests(ServerFixture server)
{
    [Fact]
    public async Task ARowThatCannotBeWritten_FailsOnlyItsOwnRequest()
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var writer = scope.ServiceProvider.GetRequiredService<TokenRowWriter>();
        var application = await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().AsNoTracking().SingleAsync(a => a.ClientId == client.ClientId);
        var good = Enumerable.Range(0, 8).Select(_ => Row(application)).ToList();
        // Refers to a client that does not exist: the foreign key refuses it.
        var bad = Row(new OpenIddictEntityFrameworkCoreApplication<Guid> { Id = Guid.NewGuid() });

        var writes = good.Select(row => writer.WriteAsync([row], db)).Append(writer.WriteAsync([bad], db)).ToList();
        await Assert.ThrowsAnyAsync<Exception>(() => writes[^1]);
        await Task.WhenAll(writes.Take(good.Count));

        var ids = good.Select(r => r.Id).Append(bad.Id).ToList();
        var stored = await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking().Where(t => ids.Contains(t.Id)).Select(t => t.Id).ToListAsync();
        Assert.Equal(good.Select(r => r.Id).Order(), stored.Order());
    }

    private static OpenIddictEntityFrameworkCoreToken<Guid> Row(OpenIddictEntityFrameworkCoreApplication<Guid> application) => new()
    {
        Id = Guid.NewGuid(),
        Application = application,
        CreationDate = DateTime.UtcNow,
        ExpirationDate = DateTime.UtcNow.AddHours(1),
        Status = "valid",
        Type = "access_token",
    };
}
