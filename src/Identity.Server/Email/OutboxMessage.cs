namespace Identity.Server.Email;

/// <summary>
/// An email waiting to be sent, written in the same transaction as the change that caused it, so that it is never lost
/// and never sent for a change that rolled back (SPEC §6).
/// </summary>
public sealed class OutboxMessage
{
    public Guid Id { get; set; }
    public required string To { get; set; }
    public required string Subject { get; set; }
    public required string TextBody { get; set; }
    public required string HtmlBody { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    /// <summary>A node that claimed the message holds it until this instant; another node may take it after a crash.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    /// <summary>Set when the message was refused for good (<see cref="LastError"/> says why): it is never tried again.</summary>
    public DateTimeOffset? FailedAt { get; set; }
}
