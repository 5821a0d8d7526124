using Identity.Server.Persistence;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Persistence;

/// <summary>The token rows' identifiers: RFC 9562 version 7, ordered by the clock, random past the timestamp.</summary>
public sealed class RowIdsTests
{
    [Fact]
    public void AnId_IsVersion7_WithTheClocksMillisecondsInItsFirst48Bits()
    {
        var now = new DateTimeOffset(2026, 12, 3, 14, 5, 6, 789, TimeSpan.Zero);
        var id = new RowIds(new TestTimeProvider(now)).Next();

        Assert.Equal(7, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
        var bytes = id.ToByteArray(bigEndian: true);
        var milliseconds = bytes[..6].Aggregate(0L, (value, b) => value << 8 | b);
        Assert.Equal(now.ToUnixTimeMilliseconds(), milliseconds);
        // What the runtime's own version 7 gives for the same instant starts the same way.
        Assert.Equal(Guid.CreateVersion7(now).ToString()[..13], id.ToString()[..13]);
    }

    [Fact]
    public void Ids_AreDistinctAcrossManyRefillsOfTheRandomBlock_AndSortByTheirTime()
    {
        var clock = new TestTimeProvider(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero));
        var ids = new RowIds(clock);

        var sameMillisecond = Enumerable.Range(0, 5_000).Select(_ => ids.Next()).ToList();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var later = ids.Next();

        Assert.Equal(sameMillisecond.Count, sameMillisecond.Distinct().Count());
        // Not only the whole ids: their last 8 bytes (62 random bits) never repeat either, refill after refill.
        Assert.Equal(sameMillisecond.Count, sameMillisecond.Select(id => Convert.ToHexString(id.ToByteArray(true), 8, 8)).Distinct().Count());
        Assert.All(sameMillisecond, id => Assert.True(later.CompareTo(id) > 0));
        Assert.All(sameMillisecond, id => Assert.True(string.CompareOrdinal(later.ToString(), id.ToString()) > 0));
    }
}
