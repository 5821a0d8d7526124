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
/// <remarks>
/// The per-client budget is shared by everyone who signs in through that client (the login page is one client,
/// "login-page"), so a refused attempt counts against no limit at all: otherwise one address past its own limit would
/// go on spending the shared budget and lock every other person out of the client (SPEC §2 keys the limits by user
/// name, client and address; none of them is meant to reach beyond its key).
/// </remarks>
internal sealed class PasswordGrantRateLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly PartitionedRateLimiter<string> perClient, perUserName, perAddress;
    // Makes "every limit has room" and "take one from each" a single step; the work inside is a few dictionary
    // lookups, next to the 0.2 s of hashing every allowed attempt then costs.
    private readonly Lock gate = new();

    public PasswordGrantRateLimiter(IOptions<PasswordGrantRateLimitOptions> options)
    {
        var o = options.Value;
        perClient = KeyedWindowLimiter.Create(o.PerClientPerMinute, Window);
        perUserName = KeyedWindowLimiter.Create(o.PerUserNamePerMinute, Window);
        perAddress = KeyedWindowLimiter.Create(o.PerAddressPerMinute, Window);
    }

    /// <summary>
    /// Null when allowed, and then the attempt is counted against the address, the user name and the client; otherwise
    /// how long to wait, and nothing is counted. The user name counts as sign-in looks it up (<see cref="Accounts.SignInPolicy"/>:
    /// trimmed, and without regard to case), so that "alice ", " alice" and "ALICE" share one window.
    /// </summary>
    public TimeSpan? TryAcquire(string clientId, string userName, IPAddress? address)
    {
        (PartitionedRateLimiter<string> Limiter, string Key)[] limits =
            [(perAddress, address?.ToString() ?? ""), (perUserName, userName.Trim().ToUpperInvariant()), (perClient, clientId)];
        lock (gate)
        {
            TimeSpan? wait = null;
            foreach (var (limiter, key) in limits)
            {
                // Zero permits asks whether the window has room without taking any.
                using var room = limiter.AttemptAcquire(key, 0);
                if (room.IsAcquired) continue;
                var retryAfter = room.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
                wait = wait > retryAfter ? wait : retryAfter; // the longest: the attempt needs room in all of them
            }
            if (wait is not null) return wait;
            // Under the gate nothing else takes permits, and a window only gains them, so each of these succeeds.
            foreach (var (limiter, key) in limits) limiter.AttemptAcquire(key).Dispose();
            return null;
        }
    }

    public void Dispose()
    {
        perClient.Dispose();
        perUserName.Dispose();
        perAddress.Dispose();
    }
}
