using System.Diagnostics.CodeAnalysis;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

internal sealed class AccountTokens(ServerDbContext db, IOptions<AccountsOptions> options, TimeProvider time)
{
    /// <summary>Ends the user's earlier tokens of this purpose and adds a new one to the unit of work; returns its value.</summary>
    public async Task<string> IssueAsync(string userId, AccountTokenPurpose purpose, string? email, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await EndUnusedAsync(userId, purpose, ct);
        var value = LinkTokens.New();
        var lifetime = purpose == AccountTokenPurpose.ConfirmEmail ? options.Value.EmailConfirmationLinkLifetime : options.Value.PasswordResetLinkLifetime;
        db.AccountTokens.Add(new AccountToken
        {
            Id = Guid.CreateVersion7(now),
            UserId = userId,
            Purpose = purpose,
            Hash = LinkTokens.Hash(value),
            Email = email,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        });
        return value;
    }

    /// <summary>Ends the user's unused links of this purpose.</summary>
    public Task EndUnusedAsync(string userId, AccountTokenPurpose purpose, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return db.AccountTokens.Where(t => t.UserId == userId && t.Purpose == purpose && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct);
    }

    /// <summary>
    /// A user id as a link can carry it: no longer than the column, and without control characters (PostgreSQL refuses
    /// a NUL in text outright, which answered 500 where the link is simply invalid).
    /// </summary>
    public static bool IsPlausibleUserId([NotNullWhen(true)] string? userId) =>
        !string.IsNullOrEmpty(userId) && userId.Length <= 450 && userId.AsSpan().IndexOfAnyInRange('\0', '\u001f') < 0;

    /// <summary>
    /// Ends the unused confirmation links for an address other than <paramref name="current"/>: a pending email change
    /// is dropped, while a link confirming the account's own address (registration, resend) stays good.
    /// </summary>
    public Task CancelEmailChangeAsync(string userId, string? current, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return db.AccountTokens.Where(t => t.UserId == userId && t.Purpose == AccountTokenPurpose.ConfirmEmail && t.UsedAt == null && t.Email != current)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct);
    }

    /// <summary>
    /// A changed or reset password ends the user's sessions (SPEC §3), and with them what a session may have asked for
    /// by mail: a pending change of address (else a thief's change, asked for with a stolen token, still went through
    /// after the owner reset the password) and, after a change, a reset link still out. Not cancellable: the password
    /// is stored by then.
    /// </summary>
    public async Task EndWhatANewPasswordEndsAsync(ApplicationUser user, bool endResetLinks)
    {
        await CancelEmailChangeAsync(user.Id, user.Email, CancellationToken.None);
        if (endResetLinks) await EndUnusedAsync(user.Id, AccountTokenPurpose.ResetPassword, CancellationToken.None);
    }

    /// <summary>The token's row, whatever its state; null if no such token exists for this user and purpose.</summary>
    public Task<AccountToken?> FindAsync(string userId, string value, AccountTokenPurpose purpose, CancellationToken ct)
    {
        if (value.Length > 200) return Task.FromResult<AccountToken?>(null);
        var hash = LinkTokens.Hash(value);
        return db.AccountTokens.AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash && t.UserId == userId && t.Purpose == purpose, ct);
    }

    /// <summary>Uses the token once: true for exactly one caller, and only before it expires.</summary>
    public async Task<bool> TryUseAsync(AccountToken token, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (token.UsedAt is not null || token.ExpiresAt <= now) return false;
        return await db.AccountTokens.Where(t => t.Id == token.Id && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct) == 1;
    }
}
