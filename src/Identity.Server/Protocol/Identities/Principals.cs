using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Identity.Server.Accounts;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Identities;

/// <summary>The principals our passthrough endpoints sign in with: a person, or a client acting for itself.</summary>
internal static class Principals
{
    /// <summary>
    /// A person, with the claims their scopes allow and where each goes. <paramref name="session"/> is the sign-in
    /// session (OIDC <c>sid</c>) and <paramref name="authenticatedAt"/> when the person last proved who they are.
    /// Scopes and resources are set by the caller for a new grant; a refresh or code redemption gets them back from
    /// the presented token (OpenIddict restores its internal claims).
    /// </summary>
    public static ClaimsPrincipal ForUser(ApplicationUser user, IReadOnlyCollection<string> roles, IReadOnlySet<string> scopes,
        DateTimeOffset authenticatedAt, string session)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.AddClaim(Claims.Subject, user.Id);
        identity.AddClaim(Claims.PreferredUsername, user.UserName ?? user.Id);
        var fullName = string.Join(' ', new[] { user.FirstName, user.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)));
        identity.AddClaim(Claims.Name, fullName.Length > 0 ? fullName : user.UserName ?? user.Id);
        if (!string.IsNullOrWhiteSpace(user.FirstName)) identity.AddClaim(Claims.GivenName, user.FirstName);
        if (!string.IsNullOrWhiteSpace(user.LastName)) identity.AddClaim(Claims.FamilyName, user.LastName);
        identity.AddClaim(new Claim(Claims.UpdatedAt, user.UpdatedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        if (user.Email is { } email)
        {
            identity.AddClaim(Claims.Email, email);
            identity.AddClaim(new Claim(Claims.EmailVerified, user.EmailConfirmed ? "true" : "false", ClaimValueTypes.Boolean));
        }
        // One claim holding a JSON array: as separate claims, a single role became a string in the ID token, while
        // userinfo answers an array, and a client reading both had to expect either shape.
        if (roles.Count > 0) identity.AddClaim(new Claim(Claims.Role, JsonSerializer.Serialize(roles), JsonClaimValueTypes.JsonArray));
        identity.AddClaim(new Claim(Claims.AuthenticationTime, authenticatedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        identity.AddClaim("sid", session);
        ClaimDestinations.Apply(identity, scopes);
        return new ClaimsPrincipal(identity);
    }

    /// <summary>A client acting for itself (RFC 6749 §4.4): its id is the subject; nothing about a person.</summary>
    public static ClaimsPrincipal ForClient(string clientId)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.AddClaim(ClaimDestinations.ToAccessTokenOnly(new Claim(Claims.Subject, clientId)));
        return new ClaimsPrincipal(identity);
    }

    /// <summary>When the person behind a token last authenticated, from its <c>auth_time</c>.</summary>
    public static DateTimeOffset? AuthenticatedAt(ClaimsPrincipal principal) =>
        long.TryParse(principal.GetClaim(Claims.AuthenticationTime), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
