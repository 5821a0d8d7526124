using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Revocation;

/// <summary>POST /connect/revoke (RFC 7009).</summary>
internal sealed class RevocationEndpoint(ClientRequests requests, RevocationHandler handler)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var request = await requests.ReadAsync(http, ct);
        if (request.Rejection is not null) return request.Rejection;
        if (request.Form!["token"] is not { } token) return requests.Reject(OAuthError.InvalidRequest("The token parameter is required."), request.Client!.ClientId);

        await handler.RevokeAsync(token, request.Client!, ct);
        // §2.2: 200 whether or not there was anything to revoke; the client cannot tell and need not care.
        http.Response.Headers.CacheControl = "no-store";
        return Results.Ok();
    }
}

/// <summary>
/// Revokes what the client may revoke: only its own tokens (§2.1: "the authorization server first validates ... whether
/// the token was issued to the client making the revocation request"). A refresh token takes its whole authorization
/// with it — every access and refresh token of that sign-in; an access token goes alone. token_type_hint is only a hint:
/// the token is found whatever it says.
/// </summary>
internal sealed class RevocationHandler(Persistence.ServerDbContext db, PresentedTokens tokens, TokenFamilies families, TimeProvider time,
    Hosting.ServerMetrics metrics)
{
    public async Task RevokeAsync(string value, Client client, CancellationToken ct)
    {
        var token = await tokens.FindAsync(value, ct);
        if (token is null || token.ClientId != client.ClientId || token.Status == TokenStatus.Revoked) return;
        metrics.TokenRevoked(token.Type switch { TokenType.RefreshToken => "refresh_token", TokenType.AccessToken => "access_token", _ => "authorization_code" });
        if (token.Type == TokenType.RefreshToken && token.AuthorizationId is { } authorization)
            await families.RevokeAsync(authorization, time.GetUtcNow(), ct);
        else
            await db.Tokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, TokenStatus.Revoked), ct);
    }
}
