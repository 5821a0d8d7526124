using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Identity.Server.Accounts;

/// <summary>The browser session of a person who signed in on the login page (a cookie), as the authorize endpoint reads it.</summary>
internal static class PeopleSessions
{
    public const string Scheme = "Identity.People";

    public static AuthenticationBuilder AddPeopleSessions(this AuthenticationBuilder authentication) =>
        authentication.AddCookie(Scheme, options =>
        {
            options.Cookie.Name = "__identity_session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.ExpireTimeSpan = TimeSpan.FromHours(12);
            options.SlidingExpiration = true;
        });

    public static ClaimsPrincipal Principal(ApplicationUser user, DateTimeOffset authenticatedAt) => new(new ClaimsIdentity(
    [
        new Claim("sub", user.Id),
        new Claim("name", user.UserName ?? user.Id),
        new Claim("auth_time", authenticatedAt.ToUnixTimeSeconds().ToString()),
        new Claim("sid", Guid.NewGuid().ToString("N")),
    ], Scheme, "name", "role"));

    public static DateTimeOffset? AuthenticatedAt(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirst("auth_time")?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
