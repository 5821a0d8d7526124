using System.Security.Claims;
using Identity.Server.Accounts.Contracts;
using Identity.Server.Email;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Authorization;
using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>
/// POST /api/account/password: needs the current password; the user's other sessions end (SPEC §3). Wrong current
/// passwords count towards the sign-in lockout, so that a stolen access token is not an unlimited password oracle.
/// </summary>
internal sealed class ChangePasswordHandler(UserManager<ApplicationUser> users, PasswordHashes passwords, PasswordPolicy policy, NewPasswords newPasswords,
    LockoutCounter lockouts, SignInEligibility eligibility, AccountTokens tokens, Sessions sessions, ServerMetrics metrics) : IInputCheck<ChangePasswordRequest>
{
    public async Task<AccountError?> ChangeAsync(string userId, string? currentAuthorization, string current, string next, CancellationToken ct)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null) return AccountError.Field("", "The account no longer exists.");
        // A weak new password is named beside whatever the current one gets, in the one 400 (SPEC §3).
        var weak = policy.Refusals(next, "newPassword");
        // The bearer token already shows who asks, so unlike a sign-in this may say so before any check: a locked-out
        // account's password is not checked at all.
        if (eligibility.IsLockedOut(user)) return LockedOut().With(weak);
        // What UserManager.ChangePasswordAsync does, with both hashes in the hashing queue.
        if (await passwords.VerifyAsync(user, current, ct) == PasswordVerificationResult.Failed)
        {
            if (await lockouts.CountFailureAsync(user.Id)) metrics.LockedOut(SignInChannel.PasswordChange);
            return AccountError.FromIdentity(IdentityResult.Failed(users.ErrorDescriber.PasswordMismatch()), "newPassword").With(weak);
        }
        if (!await lockouts.AcceptRightPasswordAsync(user.Id, ct)) return LockedOut().With(weak);
        if (AccountError.Invalid(weak) is { } invalid) return invalid;
        var hash = await passwords.HashAsync(user, next, ct);
        if (!await newPasswords.StoreAsync(userId, hash, reset: false, replacing: user.PasswordHash))
            return AccountError.Field("currentPassword", "The password was changed meanwhile; sign in again with the new one.");
        await sessions.EndAllAsync(userId, except: currentAuthorization, CancellationToken.None);
        await tokens.EndWhatANewPasswordEndsAsync(user, endResetLinks: true);
        return null;
    }

    private static AccountError LockedOut() =>
        AccountError.Field("currentPassword", "The account is locked after too many wrong passwords; try again later.");

    /// <summary>The new password, when the request's attributes refused another field: the current one is not tried then.</summary>
    public Task<Dictionary<string, string[]>> CheckAsync(ChangePasswordRequest request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct) =>
        Task.FromResult(refused.Contains("newPassword") || request.NewPassword is null ? [] : policy.Refusals(request.NewPassword, "newPassword"));
}

/// <summary>Forgot and reset: the emailed link's token is single-use; a reset ends every session of the user.</summary>
internal sealed class PasswordResetHandler(ServerDbContext db, UserManager<ApplicationUser> users, PasswordHashes passwords, PasswordPolicy policy,
    NewPasswords newPasswords, AccountTokens tokens, EmailOutbox outbox, EmailRateLimiter limiter, Sessions sessions, TimeProvider time)
    : IInputCheck<ResetPasswordRequest>
{
    /// <summary>
    /// Queues the request for a reset email; the dispatch job sends it if the account exists. The same row and the same
    /// write for any address: looking the account up and issuing its token here took measurably longer for an address
    /// with an account, which told the caller what the 202 does not (SPEC §3: no enumeration).
    /// </summary>
    public async Task ForgotAsync(string email, CancellationToken ct)
    {
        if (!limiter.TryAcquire(email)) return;
        outbox.EnqueueLink(AccountTokenPurpose.ResetPassword, email);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Whether a link is still good, for the page to show its form or a clear failure.</summary>
    public async Task<bool> IsUsableAsync(string? userId, string? value, CancellationToken ct)
    {
        if (!AccountTokens.IsPlausibleUserId(userId) || string.IsNullOrEmpty(value)) return false;
        var token = await tokens.FindAsync(userId, value, AccountTokenPurpose.ResetPassword, ct);
        return token is { UsedAt: null } && token.ExpiresAt > time.GetUtcNow();
    }

    public async Task<AccountError?> ResetAsync(string userId, string value, string newPassword, CancellationToken ct)
    {
        var invalid = AccountError.Field("token", "The link is invalid or has expired; ask for a new one.");
        // A bad link and a weak password are named together, in the one 400 (SPEC §3).
        var weak = policy.Refusals(newPassword, "newPassword");
        if (!AccountTokens.IsPlausibleUserId(userId)) return invalid.With(weak);
        var user = await users.FindByIdAsync(userId);
        var token = user is null ? null : await tokens.FindAsync(userId, value, AccountTokenPurpose.ResetPassword, ct);
        if (user is null || token is null) return invalid.With(weak);
        // Check the new password before using the token, so that a weak choice does not burn the link.
        if (AccountError.Invalid(weak) is { } refused) return refused;
        var hash = await passwords.HashAsync(user, newPassword, ct);
        if (!await tokens.TryUseAsync(token, ct)) return invalid;

        // From here on not cancellable: the link is used up, so a client that hangs up must still get its new password.
        if (!await newPasswords.StoreAsync(userId, hash, reset: true)) return invalid;
        await sessions.EndAllAsync(userId, except: null, CancellationToken.None);
        await tokens.EndWhatANewPasswordEndsAsync(user, endResetLinks: false);
        return null;
    }

    /// <summary>The new password, when the request's attributes refused another field: the link is not looked up then.</summary>
    public Task<Dictionary<string, string[]>> CheckAsync(ResetPasswordRequest request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct) =>
        Task.FromResult(refused.Contains("newPassword") || request.NewPassword is null ? [] : policy.Refusals(request.NewPassword, "newPassword"));
}
