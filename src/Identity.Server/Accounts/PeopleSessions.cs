using System.Security.Claims;
using Identity.Server.Hosting;
using Identity.Server.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// The browser session of a person who signed in on the login page (a cookie), as the authorize endpoint reads it. It
/// carries the user's security stamp as it was then, and holds only while the stamp is the same: a password change or
/// reset (SPEC §3: the user's sessions end) turns every browser session of the person away, which could otherwise go
/// on getting codes, and so fresh refresh tokens, for 12 hours.
/// </summary>
internal static class PeopleSessions
{
    public const string Scheme = "Identity.People";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    private const string StampClaim = "stamp";

    public static AuthenticationBuilder AddPeopleSessions(this AuthenticationBuilder authentication)
    {
        authentication.Services.AddScoped<PeopleSessionValidation>();
        authentication.Services.AddSingleton<BrowserSessionStore>();
        authentication.Services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<BrowserSessionStore>((options, store) => options.SessionStore = store);
        authentication.AddCookie(Scheme, options =>
        {
            options.Cookie.Name = "__identity_session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.ExpireTimeSpan = Lifetime;
            options.SlidingExpiration = true;
            options.EventsType = typeof(PeopleSessionValidation);
        });
        authentication.Services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<IOptions<ProtocolOptions>>(
            (options, protocol) => HostOnlyCookies.Apply(options.Cookie, "identity_session", protocol.Value));
        return authentication;
    }

    public static ClaimsPrincipal Principal(ApplicationUser user, DateTimeOffset authenticatedAt) => new(new ClaimsIdentity(
    [
        new Claim("sub", user.Id),
        new Claim("name", user.UserName ?? user.Id),
        new Claim("auth_time", authenticatedAt.ToUnixTimeSeconds().ToString()),
        new Claim("sid", Guid.NewGuid().ToString("N")),
        new Claim(StampClaim, user.SecurityStamp ?? ""),
    ], Scheme, "name", "role"));

    /// <summary>Whether <paramref name="session"/> was opened since <paramref name="user"/>'s security stamp last changed.</summary>
    public static bool IsCurrent(ClaimsPrincipal session, ApplicationUser user) =>
        session.FindFirst(StampClaim)?.Value is { Length: > 0 } stamp && stamp == user.SecurityStamp;

    public static DateTimeOffset? AuthenticatedAt(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirst("auth_time")?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}

/// <summary>
/// Checks each use of a session against its user (one read, which the request's later reads of the user share), and
/// ends a session whose user is gone or whose security stamp has changed since.
/// </summary>
internal sealed class PeopleSessionValidation(UserManager<ApplicationUser> users) : CookieAuthenticationEvents
{
    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.FindFirst("sub")?.Value is { } subject && await users.FindByIdAsync(subject) is { } user
            && PeopleSessions.IsCurrent(context.Principal, user))
            return;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(PeopleSessions.Scheme);
    }
}
