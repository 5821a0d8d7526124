using System.Threading.RateLimiting;

namespace Identity.Server.Hosting;

/// <summary>
/// The one limiter shape the server's guards use: a fixed window per key (a user name, an address, a client), no
/// queueing, at least one permit whatever the setting says.
/// </summary>
internal static class KeyedWindowLimiter
{
    public static PartitionedRateLimiter<string> Create(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, permits),
            Window = window,
            QueueLimit = 0,
        }));
}
