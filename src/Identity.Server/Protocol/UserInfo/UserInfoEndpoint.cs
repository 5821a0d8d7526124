using Identity.Server.Persistence;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.UserInfo;

/// <summary>
/// GET and POST /connect/userinfo (OIDC Core §5.3), reached after OpenIddict validated the access token (signature,
/// expiry, revocation): the person's claims as they are now, as far as the token's scopes reach. RFC 6750 §3.1: a
/// token without openid is insufficient_scope (403); one whose person is gone is invalid_token (401).
/// </summary>
internal sealed class UserInfoEndpoint(ServerDbContext db, UserQueries users, UntrackedRows read)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var token = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal!;
        if (!token.HasScope(StandardScopes.OpenId))
            return OAuthResults.Reject(OAuthError.InsufficientScope("The access token does not grant the openid scope."));
        var user = token.GetClaim(Claims.Subject) is { } subject ? await users.ById(db, read, subject, ct) : null;
        if (user is null) return OAuthResults.Challenge(OAuthError.InvalidToken("The user no longer exists."));

        var claims = new Dictionary<string, object?> { [Claims.Subject] = user.Id };
        if (token.HasScope(StandardScopes.Profile))
        {
            var name = string.Join(' ', new[] { user.FirstName, user.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)));
            claims[Claims.Name] = name.Length > 0 ? name : user.UserName;
            claims[Claims.GivenName] = user.FirstName;
            claims[Claims.FamilyName] = user.LastName;
            claims[Claims.PreferredUsername] = user.UserName;
            claims[Claims.UpdatedAt] = user.UpdatedAt.ToUnixTimeSeconds();
        }
        if (token.HasScope(StandardScopes.Email))
        {
            claims[Claims.Email] = user.Email;
            claims[Claims.EmailVerified] = user.EmailConfirmed;
        }
        if (token.HasScope(StandardScopes.Roles))
        {
            claims[Claims.Role] = await (from userRole in db.UserRoles
                                         join role in db.Roles on userRole.RoleId equals role.Id
                                         where userRole.UserId == user.Id
                                         select role.Name).ToListAsync(ct);
        }
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(claims.Where(c => c.Value is not null).ToDictionary(), System.Text.Json.JsonSerializerOptions.Web);
    }
}
