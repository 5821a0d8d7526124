using System.Data.Common;
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
            // An insert that yields on the key, not one that fails on it: two first polls of one code at once made EF
            // Core log an Error with a stack trace for the loser, which any device holding a code could repeat at will.
            // Of the two, the one that did not insert came too soon.
            var inserted = await db.Database.ExecuteSqlRawAsync(
                """INSERT INTO "DevicePolls" ("DeviceCodeId", "LastPolledAt", "IntervalSeconds", "ExpiresAt") VALUES ({0}, {1}, {2}, {3}) ON CONFLICT DO NOTHING""",
                [Parameter(nameof(DevicePoll.DeviceCodeId), deviceCodeId), Parameter(nameof(DevicePoll.LastPolledAt), now),
                    Parameter(nameof(DevicePoll.IntervalSeconds), (int)Interval.TotalSeconds), Parameter(nameof(DevicePoll.ExpiresAt), expiresAt)], ct);
            return inserted == 0;
        }
        var tooSoon = now < last.LastPolledAt + TimeSpan.FromSeconds(last.IntervalSeconds) - Leeway;
        var interval = tooSoon ? last.IntervalSeconds + SlowDownSeconds : last.IntervalSeconds;
        // Conditional on the row read: of two polls racing on different nodes, one updates and the other was too soon.
        var recorded = await polls.Where(p => p.DeviceCodeId == deviceCodeId && p.LastPolledAt == last.LastPolledAt)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.LastPolledAt, now).SetProperty(p => p.IntervalSeconds, interval), ct);
        return tooSoon || recorded == 0;
    }

    /// <summary>A value as the model stores it on this provider (SQLite keeps instants as Unix milliseconds, and ids as text).</summary>
    private DbParameter Parameter(string property, object value)
    {
        var mapping = db.Model.FindEntityType(typeof(DevicePoll))!.FindProperty(property)!.GetRelationalTypeMapping();
        using var command = db.Database.GetDbConnection().CreateCommand();
        return mapping.CreateParameter(command, "p_" + property, value);
    }
}
