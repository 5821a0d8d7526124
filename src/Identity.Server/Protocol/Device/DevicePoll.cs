namespace Identity.Server.Protocol.Device;

/// <summary>
/// When a device last polled the token endpoint with a pending device code, and the interval it must keep (RFC 8628
/// §3.5): shared by every node, so that polling a different node each time is no way around slow_down.
/// </summary>
public sealed class DevicePoll
{
    /// <summary>The device code's token id (OpenIddict's token row).</summary>
    public Guid DeviceCodeId { get; set; }
    public DateTimeOffset LastPolledAt { get; set; }
    public int IntervalSeconds { get; set; }
    /// <summary>The device code's expiry: the prune job deletes the row after it.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
