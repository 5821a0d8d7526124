using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// RFC 8628 §3.5's polling discipline for pending device codes, across nodes: each poll of a pending code is recorded
/// with one conditional statement, and one that comes sooner than the interval asks is too soon — the device is told
/// slow_down and its interval grows by 5 seconds "for this and all subsequent requests".
/// </summary>
internal sealed class DevicePolls(ServerDbContext db)
{
    /// <summary>RFC 8628 §3.2's default, sent as <c>interval</c> in every device authorization response.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    /// <summary>A device waits from when it sent its last poll, the server counts from when it arrived: network jitter is forgiven.</summary>
    private static readonly TimeSpan Leeway = TimeSpan.FromSeconds(1);
    private const int SlowDownSeconds = 5;

    /// <summary>Records a poll of a pending device code; true when it came too soon.</summary>
    public async Task<bool> IsTooSoonAsync(Guid deviceCodeId, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct)
    {
        var polls = db.Set<DevicePoll>();
        var last = await polls.AsNoTracking().SingleOrDefaultAsync(p => p.DeviceCodeId == deviceCodeId, ct);
        if (last is null)
        {
            // Of two first polls at once, the one that did not insert came too soon.
            var first = new DevicePoll { DeviceCodeId = deviceCodeId, LastPolledAt = now, IntervalSeconds = (int)Interval.TotalSeconds, ExpiresAt = expiresAt };
            return !await InsertIfAbsent.RunAsync(db, first, ct);
        }
        var tooSoon = now < last.LastPolledAt + TimeSpan.FromSeconds(last.IntervalSeconds) - Leeway;
        var interval = tooSoon ? last.IntervalSeconds + SlowDownSeconds : last.IntervalSeconds;
        // Conditional on the row read: of two polls racing on different nodes, one updates and the other was too soon.
        var recorded = await polls.Where(p => p.DeviceCodeId == deviceCodeId && p.LastPolledAt == last.LastPolledAt)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.LastPolledAt, now).SetProperty(p => p.IntervalSeconds, interval), ct);
        return tooSoon || recorded == 0;
    }
}
