using System.Net;
using System.Threading.RateLimiting;
using Identity.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Token;

/// <summary>"Identity:RateLimits:PasswordGrant": attempts per minute, per client, per user name and per remote address.</summary>
public sealed class PasswordGrantRateLimitOptions
{
    public const string SectionName = "Identity:RateLimits:PasswordGrant";
    public int PerClientPerMinute { get; set; } = 6000;
    public int PerUserNamePerMinute { get; set; } = 10;
    public int PerAddressPerMinute { get; set; } = 600;
}

/// <summary>
/// Guessing passwords costs the attacker attempts and the server PBKDF2 time, so the password grant is limited
/// before any hash is computed. Per-node windows: with N nodes the effective limit is up to N times the setting.
/// </summary>
internal sealed class PasswordGrantRateLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly PartitionedRateLimiter<string> perClient, perUserName, perAddress;

    public PasswordGrantRateLimiter(IOptions<PasswordGrantRateLimitOptions> options)
    {
        var o = options.Value;
        perClient = KeyedWindowLimiter.Create(o.PerClientPerMinute, Window);
        perUserName = KeyedWindowLimiter.Create(o.PerUserNamePerMinute, Window);
        perAddress = KeyedWindowLimiter.Create(o.PerAddressPerMinute, Window);
    }

    /// <summary>Null when allowed; otherwise how long to wait.</summary>
    public TimeSpan? TryAcquire(string clientId, string userName, IPAddress? address)
    {
        foreach (var (limiter, key) in new[] { (perClient, clientId), (perUserName, userName.ToUpperInvariant()), (perAddress, address?.ToString() ?? "") })
        {
            using var lease = limiter.AttemptAcquire(key);
            if (!lease.IsAcquired)
                return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : Window;
        }
        return null;
    }

    public void Dispose()
    {
        perClient.Dispose();
        perUserName.Dispose();
        perAddress.Dispose();
    }
}
