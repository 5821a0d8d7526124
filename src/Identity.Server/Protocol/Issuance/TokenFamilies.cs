using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Issuance;

/// <summary>Revocation of whole authorizations (token families): reuse detection, revocation, password changes.</summary>
internal sealed class TokenFamilies(ServerDbContext db)
{
    /// <summary>An opaque token's row (by hash) with the authorization it belongs to; null if unknown or family-less.</summary>
    public async Task<(Token Token, Authorization Family)?> FindByHashAsync(byte[] hash, TokenType type, CancellationToken ct)
    {
        var row = await (from t in db.Tokens.AsNoTracking()
                         join a in db.Authorizations.AsNoTracking() on t.AuthorizationId equals a.Id
                         where t.Hash == hash && t.Type == type
                         select new { Token = t, Family = a }).SingleOrDefaultAsync(ct);
        return row is null ? null : (row.Token, row.Family);
    }

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
