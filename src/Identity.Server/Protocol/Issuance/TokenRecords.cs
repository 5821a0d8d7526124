using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Issuance;

/// <summary>
/// A token's row with its authorization and its person, read in one statement. Every request that presents a token
/// needs some of the three; reading them together is one database round trip instead of two or three.
/// </summary>
internal sealed record TokenRecord(Token Token, Authorization? Family, ApplicationUser? User);

/// <summary>
/// The token reads on the hot paths (bearer validation, userinfo, introspection, refresh), as compiled queries: EF Core
/// skips translating and looking up the LINQ tree on every call, which was a fifth of a userinfo request's CPU.
/// They run on <see cref="SharedReads"/>' contexts (on PostgreSQL, multiplexed connections).
/// A singleton, not static: a compiled query binds to the first model it meets, and one process may host several
/// (the tests run SQLite and PostgreSQL servers side by side).
/// </summary>
internal sealed class TokenRecords(SharedReads reads)
{
    private readonly Func<ServerDbContext, Guid, CancellationToken, Task<TokenRecord?>> byId = EF.CompileAsyncQuery(
        (ServerDbContext db, Guid id, CancellationToken ct) =>
            (from t in db.Tokens.AsNoTracking()
             where t.Id == id
             from a in db.Authorizations.AsNoTracking().Where(a => a.Id == t.AuthorizationId).DefaultIfEmpty()
             // Only tokens of an authorization belong to a person: a client_credentials token's subject is the client.
             from u in db.Users.AsNoTracking().Where(u => u.Id == t.SubjectId && t.AuthorizationId != null).DefaultIfEmpty()
             select new TokenRecord(t, a, u)).SingleOrDefault());

    private readonly Func<ServerDbContext, byte[], CancellationToken, Task<TokenRecord?>> byHash = EF.CompileAsyncQuery(
        (ServerDbContext db, byte[] hash, CancellationToken ct) =>
            (from t in db.Tokens.AsNoTracking()
             where t.Hash == hash
             from a in db.Authorizations.AsNoTracking().Where(a => a.Id == t.AuthorizationId).DefaultIfEmpty()
             from u in db.Users.AsNoTracking().Where(u => u.Id == t.SubjectId && t.AuthorizationId != null).DefaultIfEmpty()
             select new TokenRecord(t, a, u)).SingleOrDefault());

    public async Task<TokenRecord?> FindByIdAsync(Guid id, CancellationToken ct)
    {
        await using var db = reads.Rent();
        return await byId(db, id, ct);
    }

    /// <summary>An opaque token (reference access token, refresh token, authorization code) by the SHA-256 of its value.</summary>
    public async Task<TokenRecord?> FindByHashAsync(byte[] hash, CancellationToken ct)
    {
        await using var db = reads.Rent();
        return await byHash(db, hash, ct);
    }
}
