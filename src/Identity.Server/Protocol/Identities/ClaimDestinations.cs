using System.Security.Claims;
using Identity.Server.Protocol.Scopes;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Identities;

/// <summary>
/// Which token each claim of a person goes into (OpenIddict puts a claim only where its destinations say). The
/// access token carries what resource servers and introspection need; the id_token what the granted scopes allow
/// (OIDC Core §5.4); userinfo reads the user store afresh.
/// </summary>
/// <remarks>
/// OpenIddict keeps a claim's destinations as a claim property holding a JSON array, and its <c>SetDestinations</c>
/// writes that array with a new JSON writer, stream and buffers for every claim of every sign-in (0.8 % of a refresh's
/// CPU samples, for our ten claims). There are three sets here, so each is written once, by OpenIddict's own
/// <c>SetDestinations</c> (whatever its format becomes), and the same string is given to every claim.
/// </remarks>
internal static class ClaimDestinations
{
    private static readonly string Both = Written(Destinations.AccessToken, Destinations.IdentityToken);
    private static readonly string AccessTokenOnly = Written(Destinations.AccessToken);
    private static readonly string IdentityTokenOnly = Written(Destinations.IdentityToken);

    /// <summary>Gives each claim of <paramref name="identity"/> its destinations for <paramref name="scopes"/>; a claim with none goes nowhere.</summary>
    public static void Apply(ClaimsIdentity identity, IReadOnlySet<string> scopes)
    {
        foreach (var claim in identity.Claims)
            if (For(claim, scopes) is { } destinations) claim.Properties[Properties.Destinations] = destinations;
    }

    /// <summary><paramref name="claim"/>, to go into the access token only.</summary>
    public static Claim ToAccessTokenOnly(Claim claim)
    {
        claim.Properties[Properties.Destinations] = AccessTokenOnly;
        return claim;
    }

    private static string? For(Claim claim, IReadOnlySet<string> scopes) => claim.Type switch
    {
        Claims.Subject or Claims.AuthenticationTime or "sid" => Both,
        // RFC 7662 §2.2 "username": introspection reads it from the access token, so it needs no user lookup.
        Claims.PreferredUsername => scopes.Contains(StandardScopes.Profile) ? Both : AccessTokenOnly,
        Claims.Name or Claims.GivenName or Claims.FamilyName or Claims.UpdatedAt when scopes.Contains(StandardScopes.Profile) => IdentityTokenOnly,
        Claims.Email or Claims.EmailVerified when scopes.Contains(StandardScopes.Email) => IdentityTokenOnly,
        Claims.Role when scopes.Contains(StandardScopes.Roles) => IdentityTokenOnly,
        _ => null,
    };

    private static string Written(params string[] destinations) =>
        new Claim("_", "_").SetDestinations(destinations).Properties[Properties.Destinations];
}
