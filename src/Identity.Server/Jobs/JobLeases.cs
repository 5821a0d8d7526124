using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Jobs;

internal sealed class JobLeases(ServerDbContext db, TimeProvider time)
{
    /// <summary>True for exactly one caller per <paramref name="interval"/> across every node sharing the database.</summary>
    public async Task<bool> TryStartAsync(string name, TimeSpan interval, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        // A little under the interval, so that a node's own schedule drifting by milliseconds does not skip a run.
        var due = now - interval * 0.9;
        if (await db.JobLeases.Where(l => l.Name == name && l.LastStartedAt <= due)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.LastStartedAt, now), ct) == 1)
            return true;
        if (await db.JobLeases.AnyAsync(l => l.Name == name, ct)) return false;
        try
        {
            db.JobLeases.Add(new JobLease { Name = name, LastStartedAt = now });
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false; // another node created the row first, and with it won this run
        }
    }

    public Task RecordAsync(string name, string result, CancellationToken ct) =>
        db.JobLeases.Where(l => l.Name == name).ExecuteUpdateAsync(s => s.SetProperty(l => l.LastResult, result), ct);
}
