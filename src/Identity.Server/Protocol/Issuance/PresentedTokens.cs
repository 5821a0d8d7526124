using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Issuance;

/// <summary>Finds the row behind a token a client presents: a JWT by its verified jti, an opaque value by its hash.</summary>
internal sealed class PresentedTokens(ServerDbContext db, SigningKeyStore keys, IssuerUri issuer)
{
    private static readonly JsonWebTokenHandler Handler = new();

    public static bool LooksLikeJwt(string value) => value.Count(c => c == '.') == 2;

    /// <summary>The row, whatever its status or expiry; null for anything this server did not issue.</summary>
    public async Task<Token?> FindAsync(string value, CancellationToken ct)
    {
        if (value.Length > 8192) return null;
        if (!LooksLikeJwt(value))
        {
            var hash = OpaqueTokens.Hash(value);
            return await db.Tokens.AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash, ct);
        }
        // The signature proves the jti is ours; lifetime does not matter for finding (an expired token is still revocable).
        var result = await Handler.ValidateTokenAsync(value, (await keys.GetAsync(ct)).VerificationParameters(issuer.Value));
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt || !Guid.TryParseExact(jwt.Id, "N", out var id)) return null;
        return await db.Tokens.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, ct);
    }
}
