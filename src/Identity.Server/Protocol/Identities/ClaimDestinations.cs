using System.Security.Claims;
using Identity.Server.Protocol.Scopes;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Identities;

/// <summary>
/// Which token each claim of a person goes into (OpenIddict puts a claim only where its destinations say). The
/// access token carries what resource servers and introspection need; the id_token what the granted scopes allow
/// (OIDC Core §5.4); userinfo reads the user store afresh.
/// </summary>
internal static class ClaimDestinations
{
    private static readonly string[] Both = [Destinations.AccessToken, Destinations.IdentityToken];
    private static readonly string[] AccessTokenOnly = [Destinations.AccessToken];
    private static readonly string[] IdentityTokenOnly = [Destinations.IdentityToken];

    public static IEnumerable<string> For(Claim claim, IReadOnlySet<string> scopes) => claim.Type switch
    {
        Claims.Subject or Claims.AuthenticationTime or "sid" => Both,
        // RFC 7662 §2.2 "username": introspection reads it from the access token, so it needs no user lookup.
        Claims.PreferredUsername => scopes.Contains(StandardScopes.Profile) ? Both : AccessTokenOnly,
        Claims.Name or Claims.GivenName or Claims.FamilyName or Claims.UpdatedAt when scopes.Contains(StandardScopes.Profile) => IdentityTokenOnly,
        Claims.Email or Claims.EmailVerified when scopes.Contains(StandardScopes.Email) => IdentityTokenOnly,
        Claims.Role when scopes.Contains(StandardScopes.Roles) => IdentityTokenOnly,
        _ => [],
    };
}
