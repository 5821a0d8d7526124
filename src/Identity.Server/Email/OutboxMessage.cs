using Identity.Server.Accounts;

namespace Identity.Server.Email;

/// <summary>
/// An email waiting to be sent, written in the same transaction as the change that caused it, so that it is never lost
/// and never sent for a change that rolled back (SPEC §6). Either the message itself, or (<see cref="Link"/>) the
/// request for an account link, which the dispatch job writes when it sends it.
/// </summary>
public sealed class OutboxMessage
{
    public Guid Id { get; set; }
    /// <summary>The recipient; for a <see cref="Link"/>, the address as it was asked for, whether or not it has an account.</summary>
    public required string To { get; set; }
    /// <summary>
    /// Set for an account link (SPEC §3): the dispatch job finds the account, issues the one-time token and writes the
    /// message only when it sends it, so that the request does the same work for any address (no enumeration by
    /// timing) and the raw token is never stored. No account awaiting it: the row is dropped, nothing is sent.
    /// </summary>
    public AccountTokenPurpose? Link { get; set; }
    /// <summary>Null for a <see cref="Link"/>, which is written at send time.</summary>
    public string? Subject { get; set; }
    /// <summary>Null for a <see cref="Link"/>, and once the message is sent or refused for good: a body may hold a link's token.</summary>
    public string? TextBody { get; set; }
    /// <summary>As <see cref="TextBody"/>.</summary>
    public string? HtmlBody { get; set; }
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
