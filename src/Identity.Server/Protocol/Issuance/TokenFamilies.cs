using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Issuance;

/// <summary>Revocation of whole authorizations (token families): reuse detection, revocation, password changes.</summary>
internal sealed class TokenFamilies(ServerDbContext db, TokenRecords records)
{
    /// <summary>
    /// An opaque token of a family (refresh token, authorization code) by hash, with its authorization and its person;
    /// null if unknown, of another type, or family-less.
    /// </summary>
    public async Task<(Token Token, Authorization Family, ApplicationUser? User)?> FindByHashAsync(byte[] hash, TokenType type, CancellationToken ct) =>
        await records.FindByHashAsync(hash, ct) is { Token.Type: var found, Family: { } family } record && found == type
            ? (record.Token, family, record.User)
            : null;

    /// <summary>Revokes the authorization and every token issued from it that is not revoked yet.</summary>
    public async Task RevokeAsync(Guid authorizationId, DateTimeOffset now, CancellationToken ct)
    {
        await db.Authorizations.Where(a => a.Id == authorizationId && a.Status != AuthorizationStatus.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AuthorizationStatus.Revoked).SetProperty(a => a.RevokedAt, now), ct);
        await db.Tokens.Where(t => t.AuthorizationId == authorizationId && t.Status != TokenStatus.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, TokenStatus.Revoked), ct);
    }

    /// <summary>Ends every session of a user (password reset), or every one but the caller's own (password change).</summary>
    public async Task RevokeAllOfUserAsync(string userId, Guid? except, DateTimeOffset now, CancellationToken ct)
    {
        await db.Authorizations.Where(a => a.SubjectId == userId && a.Kind == AuthorizationKind.AdHoc && a.Status != AuthorizationStatus.Revoked && a.Id != except)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AuthorizationStatus.Revoked).SetProperty(a => a.RevokedAt, now), ct);
        await db.Tokens.Where(t => t.SubjectId == userId && t.AuthorizationId != null && t.AuthorizationId != except && t.Status != TokenStatus.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, TokenStatus.Revoked), ct);
    }
}
