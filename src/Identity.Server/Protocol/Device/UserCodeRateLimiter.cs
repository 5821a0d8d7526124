using System.Net;
using System.Threading.RateLimiting;
using Identity.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Device;

/// <summary>"Identity:RateLimits:UserCode": failed user code entries per minute, per person and per remote address.</summary>
public sealed class UserCodeRateLimitOptions
{
    public const string SectionName = "Identity:RateLimits:UserCode";
    public int PerUserPerMinute { get; set; } = 10;
    public int PerAddressPerMinute { get; set; } = 30;
}

/// <summary>
/// RFC 8628 §5.1: "the authorization server MUST rate-limit user code attempts". Only failures count (an unknown,
/// expired or used code), so a person who types the right code is never slowed; past the limit no code is looked up at
/// all until the window passes. Per-node windows, like the password grant's.
/// </summary>
internal sealed class UserCodeRateLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly PartitionedRateLimiter<string> perUser, perAddress;

    public UserCodeRateLimiter(IOptions<UserCodeRateLimitOptions> options)
    {
        perUser = KeyedWindowLimiter.Create(options.Value.PerUserPerMinute, Window);
        perAddress = KeyedWindowLimiter.Create(options.Value.PerAddressPerMinute, Window);
    }

    /// <summary>Whether either limit is spent (nothing is counted).</summary>
    public bool IsLimited(string userId, IPAddress? address)
    {
        using var user = perUser.AttemptAcquire(userId, 0);
        using var remote = perAddress.AttemptAcquire(address?.ToString() ?? "", 0);
        return !user.IsAcquired || !remote.IsAcquired;
    }

    public void CountFailure(string userId, IPAddress? address)
    {
        perUser.AttemptAcquire(userId).Dispose();
        perAddress.AttemptAcquire(address?.ToString() ?? "").Dispose();
    }

    public void Dispose()
    {
        perUser.Dispose();
        perAddress.Dispose();
    }
}
