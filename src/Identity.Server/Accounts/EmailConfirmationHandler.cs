using Identity.Server.Email;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Accounts;

public enum ConfirmationOutcome { Confirmed, AlreadyConfirmed, Invalid }

internal sealed class EmailConfirmationHandler(ServerDbContext db, UserManager<ApplicationUser> users, AccountTokens tokens,
    EmailOutbox outbox, EmailRateLimiter limiter, TimeProvider time)
{
    /// <summary>Confirms the address the token was issued for: the registration address, or a new one from a profile change.</summary>
    public async Task<ConfirmationOutcome> ConfirmAsync(string? userId, string? value, CancellationToken ct)
    {
        if (!AccountTokens.IsPlausibleUserId(userId) || string.IsNullOrEmpty(value)) return ConfirmationOutcome.Invalid;
        var user = await users.FindByIdAsync(userId);
        var token = user is null ? null : await tokens.FindAsync(userId, value, AccountTokenPurpose.ConfirmEmail, ct);
        if (user is null || token is null) return ConfirmationOutcome.Invalid;
        var sameAddress = string.Equals(token.Email, user.Email, StringComparison.OrdinalIgnoreCase);
        if (token.UsedAt is not null && sameAddress && user.EmailConfirmed) return ConfirmationOutcome.AlreadyConfirmed;
        if (!await tokens.TryUseAsync(token, ct)) return ConfirmationOutcome.Invalid;

        // The link is used up from here on, so a write that loses on the concurrency stamp (a wrong password counted
        // meanwhile renews it, see LockoutCounter) is applied again to the user as it is now, not answered as Confirmed
        // over an address left unconfirmed. Not cancellable either, for the same reason.
        for (var attempt = 1; ; attempt++)
        {
            var outcome = await ApplyAsync(user, token);
            if (outcome is { } done) return done;
            if (attempt == 3) return ConfirmationOutcome.Invalid;
            await db.Entry(user).ReloadAsync(CancellationToken.None);
        }
    }

    /// <summary>Null when a write lost on the concurrency stamp.</summary>
    private async Task<ConfirmationOutcome?> ApplyAsync(ApplicationUser user, AccountToken token)
    {
        if (!string.Equals(token.Email, user.Email, StringComparison.OrdinalIgnoreCase))
        {
            // A changed address becomes the account's address only now, and only if nobody took it meanwhile: the
            // look for a taken address, or the unique index when another confirmation of it is being written too.
            try
            {
                var userNameIsTheEmail = string.Equals(user.UserName, user.Email, StringComparison.OrdinalIgnoreCase);
                var set = await users.SetEmailAsync(user, token.Email);
                if (LostOnTheStamp(set)) return null;
                if (!set.Succeeded) return ConfirmationOutcome.Invalid;
                if (userNameIsTheEmail) await MoveUserNameAsync(user, token.Email!);
                // A reset link sent to the old address must not outlive the move: the old mailbox is often why it moved.
                await tokens.EndUnusedAsync(user.Id, AccountTokenPurpose.ResetPassword, CancellationToken.None);
            }
            catch (DbUpdateException exception) when (UniqueViolation.Is(exception))
            {
                return ConfirmationOutcome.Invalid;
            }
        }
        user.EmailConfirmed = true;
        user.UpdatedAt = time.GetUtcNow();
        var confirmed = await users.UpdateAsync(user);
        if (LostOnTheStamp(confirmed)) return null;
        return confirmed.Succeeded ? ConfirmationOutcome.Confirmed : ConfirmationOutcome.Invalid;
    }

    private bool LostOnTheStamp(IdentityResult result) =>
        !result.Succeeded && result.Errors.Any(e => e.Code == users.ErrorDescriber.ConcurrencyFailure().Code);

    /// <summary>
    /// A user name that was the old address (the default at registration) becomes the new one. Left behind, it kept the
    /// old address signing in to this account, and made it unregistrable for its next owner ("user name taken"). If the
    /// new address is already someone's user name, the old name stays.
    /// </summary>
    private async Task MoveUserNameAsync(ApplicationUser user, string email)
    {
        var previous = user.UserName;
        if ((await users.SetUserNameAsync(user, email)).Succeeded) return;
        user.UserName = previous; // Identity's validator refused a taken name; it must not ride along with the confirmation saved next
        await users.UpdateNormalizedUserNameAsync(user);
    }

    /// <summary>
    /// Queues the request for a new link; the dispatch job sends it to an unconfirmed account and drops it for an
    /// unknown or confirmed address. The same work here for any address, so neither the answer nor its timing tells
    /// them apart (SPEC §3: no enumeration).
    /// </summary>
    public async Task ResendAsync(string email, CancellationToken ct)
    {
        if (!limiter.TryAcquire(email)) return;
        outbox.EnqueueLink(AccountTokenPurpose.ConfirmEmail, email);
        await db.SaveChangesAsync(ct);
    }
}
