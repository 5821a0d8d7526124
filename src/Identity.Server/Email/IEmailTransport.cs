namespace Identity.Server.Email;

/// <summary>The seam to the outside mail system.</summary>
public interface IEmailTransport
{
    /// <summary>
    /// Starts a dispatch run's batch: its messages share one connection, opened for the first of them and closed when
    /// the batch is disposed.
    /// </summary>
    IEmailBatch BeginBatch();
}

/// <summary>One dispatch run's messages, sent one after another.</summary>
public interface IEmailBatch : IAsyncDisposable
{
    /// <summary>Sends one message. Failures are outcomes, not exceptions; only cancellation of <paramref name="ct"/> throws.</summary>
    Task<DeliveryOutcome> SendAsync(OutboxMessage message, CancellationToken ct);
}

public enum DeliveryStatus
{
    Sent,
    /// <summary>Refused for good (a 5xx reply to the recipient or the content, an address that cannot exist): never retried.</summary>
    Rejected,
    /// <summary>Not sent this time (a 4xx reply, the network, TLS, a timeout, the server's configuration): retried with backoff.</summary>
    Deferred,
}

/// <summary>What became of one message, and why when it was not sent.</summary>
public sealed record DeliveryOutcome(DeliveryStatus Status, string? Reason)
{
    public static DeliveryOutcome Sent { get; } = new(DeliveryStatus.Sent, null);
    public static DeliveryOutcome Rejected(string reason) => new(DeliveryStatus.Rejected, reason);
    public static DeliveryOutcome Deferred(string reason) => new(DeliveryStatus.Deferred, reason);
}
