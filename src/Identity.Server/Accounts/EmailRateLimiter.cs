using System.Threading.RateLimiting;
using Identity.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// Caps confirmation and reset emails per address, so the endpoints cannot be used to flood someone's inbox. The caller
/// still answers 202 when the cap is hit, so the cap reveals nothing about the address.
/// </summary>
internal sealed class EmailRateLimiter(IOptions<AccountsOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter =
        KeyedWindowLimiter.Create(options.Value.EmailsPerAddressPerHour, TimeSpan.FromHours(1));

    public bool TryAcquire(string address)
    {
        using var lease = limiter.AttemptAcquire(address.Trim().ToUpperInvariant());
        return lease.IsAcquired;
    }

    public void Dispose() => limiter.Dispose();
}
