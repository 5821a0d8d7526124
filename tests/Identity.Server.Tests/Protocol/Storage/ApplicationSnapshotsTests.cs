using Identity.Server.Protocol.Storage;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>The process-wide copies of clients: each request gets its own copy, with every column of the row.</summary>
public sealed class ApplicationSnapshotsTests
{
    [Fact]
    public void ACachedClient_IsHandedOutAsAFreshCopyOfEveryColumn()
    {
        var snapshots = new ApplicationSnapshots(TimeProvider.System);
        var stored = new OpenIddictEntityFrameworkCoreApplication<Guid>();
        // Every settable property, an OpenIddict upgrade's new columns included, gets a value of its own.
        var columns = typeof(OpenIddictEntityFrameworkCoreApplication<Guid>).GetProperties().Where(p => p.CanWrite).ToList();
        foreach (var column in columns)
        {
            column.SetValue(stored, column.PropertyType == typeof(Guid) ? Guid.NewGuid() : $"{column.Name} as stored");
        }
        snapshots.Add(stored, snapshots.Generation);

        var first = snapshots.Find(stored.ClientId!);
        var second = snapshots.Find(stored.Id);

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotSame(stored, first);
        Assert.NotSame(first, second);
        Assert.All(columns, column => Assert.Equal(column.GetValue(stored), column.GetValue(first)));
        Assert.All(columns, column => Assert.Equal(column.GetValue(stored), column.GetValue(second)));
    }
}
