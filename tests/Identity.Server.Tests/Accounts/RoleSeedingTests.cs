using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

/// <summary>The self-service roles every node creates at start: nodes starting together must all start.</summary>
[Collection(ServerCollection.Name)]
public sealed class RoleSeedingTests(ServerFixture server)
{
    [Fact]
    public async Task NodesCreatingOneNewRoleTogether_AllSucceed_AndWriteOneRow()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"role-{Guid.NewGuid():N}";

            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
                Task.Run(() => AccountsRegistration.EnsureRolesAsync(server.Services, [name, $"{name}-second"], CancellationToken.None))));

            var data = new TestData(server);
            Assert.Equal(1, await data.DbAsync(db => db.Set<IdentityRole>().CountAsync(r => r.Name == name)));
            // A lost race on the first role leaves nothing behind that would fail the second.
            Assert.Equal(1, await data.DbAsync(db => db.Set<IdentityRole>().CountAsync(r => r.Name == $"{name}-second")));
        }
    }
}
