using Identity.Server.Persistence;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Protocol.Scopes;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.UserInfo;

/// <summary>GET and POST /connect/userinfo (OIDC Core §5.3): the person's claims, as far as the token's scopes reach.</summary>
internal sealed class UserInfoEndpoint(ServerDbContext db)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var token = http.Features.Get<ValidatedAccessToken>()!;
        // Read with the token's row by the bearer handler, in the same statement.
        if (token.User is not { } user)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"identity\", error=\"invalid_token\", error_description=\"The user no longer exists.\"";
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        var claims = new Dictionary<string, object?> { ["sub"] = user.Id };
        if (token.HasScope(StandardScopes.Profile))
        {
            var name = string.Join(' ', new[] { user.FirstName, user.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)));
            claims["name"] = name.Length > 0 ? name : user.UserName;
            claims["given_name"] = user.FirstName;
            claims["family_name"] = user.LastName;
            claims["preferred_username"] = user.UserName;
            claims["updated_at"] = user.UpdatedAt.ToUnixTimeSeconds();
        }
        if (token.HasScope(StandardScopes.Email))
        {
            claims["email"] = user.Email;
            claims["email_verified"] = user.EmailConfirmed;
        }
        if (token.HasScope(StandardScopes.Roles))
        {
            claims["role"] = await (from userRole in db.UserRoles
                                    join role in db.Roles on userRole.RoleId equals role.Id
                                    where userRole.UserId == user.Id
                                    select role.Name).ToListAsync(ct);
        }
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(claims.Where(c => c.Value is not null).ToDictionary(), OAuthResults.Json);
    }
}
