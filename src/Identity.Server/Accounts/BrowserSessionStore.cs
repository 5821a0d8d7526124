using System.Security.Cryptography;
using System.Text;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Accounts;

/// <summary>
/// A person's browser session, held on the server: the cookie carries only a random key (itself encrypted by the
/// cookie handler), and the session is what this row says. Signing out deletes the row, so a copy of the cookie taken
/// before — from a shared computer, a proxy log, a stolen disk — no longer signs anyone in, on any node (OWASP ASVS
/// V3.3.1). Only the key's hash is stored.
/// </summary>
public sealed class BrowserSession
{
    public required byte[] KeyHash { get; set; }
    public required string UserId { get; set; }
    /// <summary>The cookie handler's ticket as its own serializer writes it (the claims of <see cref="PeopleSessions.Principal"/>).</summary>
    public required byte[] Ticket { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The cookie handler's <see cref="ITicketStore"/> for <see cref="PeopleSessions"/>; one per process, the rows in the request's unit of work.</summary>
internal sealed class BrowserSessionStore(TimeProvider time) : ITicketStore
{
    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext http, CancellationToken ct)
    {
        var key = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var db = Db(http);
        db.BrowserSessions.Add(new BrowserSession
        {
            KeyHash = Hash(key),
            UserId = ticket.Principal.FindFirst("sub")?.Value ?? throw new InvalidOperationException("A browser session needs its user's id."),
            Ticket = TicketSerializer.Default.Serialize(ticket),
            CreatedAt = now,
            ExpiresAt = ExpiresAt(ticket, now),
        });
        await db.SaveChangesAsync(ct);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext http, CancellationToken ct)
    {
        var (hash, ticketBytes, expiresAt) = (Hash(key), TicketSerializer.Default.Serialize(ticket), ExpiresAt(ticket, time.GetUtcNow()));
        // A session signed out meanwhile stays out: nothing matches, nothing is written.
        return Db(http).BrowserSessions.Where(s => s.KeyHash == hash)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Ticket, ticketBytes).SetProperty(b => b.ExpiresAt, expiresAt), ct);
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext http, CancellationToken ct)
    {
        var hash = Hash(key);
        var now = time.GetUtcNow();
        var ticket = await Db(http).BrowserSessions.AsNoTracking().Where(s => s.KeyHash == hash && s.ExpiresAt > now).Select(s => s.Ticket)
            .SingleOrDefaultAsync(ct);
        return ticket is null ? null : TicketSerializer.Default.Deserialize(ticket);
    }

    public Task RemoveAsync(string key, HttpContext http, CancellationToken ct)
    {
        var hash = Hash(key);
        // Not the request's token: a sign-out whose client hung up must still end the session.
        return Db(http).BrowserSessions.Where(s => s.KeyHash == hash).ExecuteDeleteAsync(CancellationToken.None);
    }

    // The cookie handler always passes the request; these overloads exist only for callers that have none.
    public Task<string> StoreAsync(AuthenticationTicket ticket) => throw NeedsTheRequest();
    public Task RenewAsync(string key, AuthenticationTicket ticket) => throw NeedsTheRequest();
    public Task<AuthenticationTicket?> RetrieveAsync(string key) => throw NeedsTheRequest();
    public Task RemoveAsync(string key) => throw NeedsTheRequest();

    private static ServerDbContext Db(HttpContext http) => http.RequestServices.GetRequiredService<ServerDbContext>();

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    // The handler sets the expiry before storing; a ticket without one lives as long as the cookie may.
    private static DateTimeOffset ExpiresAt(AuthenticationTicket ticket, DateTimeOffset now) => ticket.Properties.ExpiresUtc ?? now + PeopleSessions.Lifetime;

    private static NotSupportedException NeedsTheRequest() => new("Browser sessions are stored in the request's unit of work.");
}
