using Identity.Server.Email;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>
/// Writes a queued account link's message when the dispatch job sends it (<see cref="OutboxMessage.Link"/>): finds the
/// account the address belongs to, issues the link's one-time token (only its hash is stored, and it ends the user's
/// earlier links of that purpose: SPEC §3) and puts it in the email. The request that queued the link did none of this,
/// so that it did the same work for an address with an account as for one without (SPEC §3: no enumeration).
/// </summary>
internal sealed class AccountLinkMessages(ServerDbContext db, UserManager<ApplicationUser> users, AccountTokens tokens, AccountEmails emails)
{
    /// <summary>
    /// The message to send, its token already saved; null when no account awaits the link: an unknown address, or for
    /// confirmation one already confirmed. Written again on each attempt, so a retry carries a fresh token and the one
    /// of an attempt that failed no longer works.
    /// </summary>
    public async Task<EmailMessage?> WriteAsync(AccountTokenPurpose link, string address, CancellationToken ct)
    {
        var user = await users.FindByEmailAsync(address);
        if (user?.Email is not { } email) return null;
        if (link == AccountTokenPurpose.ConfirmEmail && user.EmailConfirmed) return null;
        var token = await tokens.IssueAsync(user.Id, link, link == AccountTokenPurpose.ConfirmEmail ? email : null, ct);
        await db.SaveChangesAsync(ct);
        return link == AccountTokenPurpose.ConfirmEmail ? emails.Confirmation(email, user.Id, token) : emails.PasswordReset(email, user.Id, token);
    }
}
