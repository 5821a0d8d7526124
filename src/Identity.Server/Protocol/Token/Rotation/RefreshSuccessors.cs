using System.Text.Json;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>Stores and reads back the sealed successor of a redeemed refresh token.</summary>
internal sealed class RefreshSuccessors(ServerDbContext db, IOptions<TokenOptions> options)
{
    public async Task StoreAsync(Guid tokenId, string refreshToken, OpenIddictResponse response, DateTimeOffset now, CancellationToken ct)
    {
        db.RefreshTokenSuccessors.Add(new RefreshTokenSuccessor
        {
            TokenId = tokenId,
            Sealed = SuccessorSeal.Seal(refreshToken, tokenId, JsonSerializer.SerializeToUtf8Bytes(response)),
            CreatedAt = now,
            ExpiresAt = now + options.Value.RefreshTokenReuseLeeway,
        });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The response the first use got, with <c>expires_in</c> counted down; null if there is none to give.</summary>
    public async Task<OpenIddictResponse?> ReadAsync(Guid tokenId, string refreshToken, DateTimeOffset now, CancellationToken ct)
    {
        var row = await db.RefreshTokenSuccessors.AsNoTracking().SingleOrDefaultAsync(s => s.TokenId == tokenId, ct);
        if (row is null || SuccessorSeal.Open(refreshToken, tokenId, row.Sealed) is not { } json) return null;
        var response = JsonSerializer.Deserialize<OpenIddictResponse>(json)!;
        if (response.ExpiresIn is { } expiresIn)
            response.ExpiresIn = Math.Max(0, expiresIn - (long)(now - row.CreatedAt).TotalSeconds);
        return response;
    }
}
