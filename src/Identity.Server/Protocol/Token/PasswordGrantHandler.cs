using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Authorization;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §4.3. Only for first-party clients that are explicitly allowed it (RFC 9700 §2.4 deprecates the grant),
/// behind lockout and rate limits. Every sign-in opens an authorization: the session its tokens belong to, which a
/// refresh token reused, a revocation or a password change ends as a whole.
/// </summary>
internal sealed class PasswordGrantHandler(SignInPolicy signIn, PasswordGrantRateLimiter limiter, ClientScopes clientScopes, ScopeCatalog catalog,
    UserManager<ApplicationUser> users, Sessions sessions, ServerDbContext db, IssuerUri issuer, TimeProvider time, ILogger<PasswordGrantHandler> logger)
    : ITokenGrantHandler
{
    public async Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct)
    {
        // OpenIddict has already refused a request without username or password (invalid_request).
        if (limiter.TryAcquire(request.ClientId!, request.Username!, http.Connection.RemoteIpAddress) is { } retryAfter)
            return OAuthError.TooManyRequests(retryAfter);

        var (outcome, user) = await signIn.CheckPasswordAsync(request.Username!, request.Password!, SignInChannel.PasswordGrant, ct);
        switch (outcome)
        {
            case SignInOutcome.InvalidCredentials:
                return OAuthError.InvalidGrant("unknown user or wrong password");
            case SignInOutcome.LockedOut:
                logger.PasswordSignInRefused(user!.Id, "locked out");
                return OAuthError.InvalidGrantDescribed("The account is locked out; try again later.", "locked out");
            case SignInOutcome.NotConfirmed:
                return OAuthError.InvalidGrantDescribed("The email address has not been confirmed.", "email not confirmed");
        }

        // RFC 6749 §3.3: an omitted scope means the pre-defined default, here everything the client may have.
        IReadOnlyList<string> scopes = request.GetScopes() is { Length: > 0 } requested ? requested : await clientScopes.AllowedAsync(request.ClientId!, ct);
        var granted = scopes.ToHashSet(StringComparer.Ordinal);
        var roles = granted.Contains(StandardScopes.Roles) ? await users.GetRolesAsync(user!) : [];
        var principal = Principals.ForUser(user!, [.. roles], granted, time.GetUtcNow(), Sessions.NewId());
        principal.SetScopes(scopes);
        principal.SetResources(catalog.AudiencesOf(granted, issuer.Value));
        if (!await sessions.OpenAsync(principal, request.ClientId!, ct))
            return new OAuthError(Errors.InvalidClient, "The client application no longer exists.") { Detail = "client deleted" };
        // A reset or change that stored a new password while this one was being verified ends the sessions it finds,
        // and this one may have opened after it looked. Opened first, then compared: either the reset finds this
        // session, or this sees the reset's new stamp. Before, such a sign-in with the old password kept its tokens.
        var stamp = await db.Users.AsNoTracking().Where(u => u.Id == user!.Id).Select(u => u.SecurityStamp).FirstOrDefaultAsync(ct);
        if (stamp != user!.SecurityStamp)
        {
            await sessions.EndAsync(principal.GetAuthorizationId()!, CancellationToken.None);
            return OAuthError.InvalidGrant("password changed during the sign-in");
        }
        return principal;
    }
}
