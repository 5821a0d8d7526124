using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 8693 token exchange: a confidential client (a service) presents one of our access tokens (the subject) and gets
/// an access token for a narrower scope or audience, in the subject's name; with an actor token, the new token says
/// who acts (<c>act</c>, §4.1). OpenIddict has validated both tokens — signature, expiry, and their rows and sessions,
/// so a revoked one never gets here —, RejectUnauthorizedExchangeParties that they are the client's to exchange, and
/// RejectTargetsNotInSubjectToken the audience asked for. The issued token is
/// stored like any access token (introspection, revocation) and belongs to the subject's sign-in: ending that ends it.
/// No refresh token: the client exchanges again when it needs to; and the new token expires no later than the subject
/// token, so that exchanging each result again cannot keep a person's access alive past what their sign-in gave.
/// </summary>
internal sealed class TokenExchangeGrantHandler(ClientScopes clientScopes, SignInEligibility eligibility, ServerDbContext db, UserQueries users,
    UntrackedRows read, ScopeCatalog catalog, IssuerUri issuer, IOpenIddictApplicationManager applications, IOptionsMonitor<OpenIddictServerOptions> server, TimeProvider time)
    : ITokenGrantHandler
{
    /// <summary>RFC 8693 §4.1's claim (OpenIddict's Claims.Actor is another, "actor").</summary>
    public const string ActClaim = "act";

    public async Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct)
    {
        var authentication = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var subject = authentication.Principal ?? throw new InvalidOperationException("OpenIddict validated no subject token.");
        var actor = authentication.Properties?.GetParameter<ClaimsPrincipal>(OpenIddictServerAspNetCoreConstants.Properties.ActorTokenPrincipal);

        // The scope never widens (SPEC §2): what was asked (the client may have it: RejectScopesNotAllowed), else what the
        // subject token has and the client may have; offline_access goes, as no refresh token is issued (§2.2.1 leaves it to us).
        var held = subject.GetScopes().ToHashSet(StringComparer.Ordinal);
        var scopes = request.GetScopes() is { Length: > 0 } asked
            ? asked.ToList()
            : (await clientScopes.AllowedAsync(request.ClientId!, ct)).Where(held.Contains).ToList();
        if (scopes.FirstOrDefault(scope => !held.Contains(scope)) is { } wider)
            return OAuthError.InvalidScope($"token exchange asked for '{wider}', which the subject token does not have");
        scopes.Remove(StandardScopes.OfflineAccess);
        if (scopes.Count == 0) return OAuthError.InvalidScope("token exchange: no scope left to issue");

        // The audience: the targets asked for, each a resource of the scopes kept; else the subject's own, as far as they reach.
        var granted = scopes.ToHashSet(StringComparer.Ordinal);
        var reach = catalog.AudiencesOf(granted, issuer.Value);
        var requested = RejectTargetsNotInSubjectToken.Requested(request).ToList();
        if (Resources.RequestedResources.Resolve(requested, reach) is not { } targets)
            return new OAuthError(Errors.InvalidTarget, "The requested audience is not one of the requested scopes' resources.")
                { Detail = Resources.RequestedResources.Outside(requested, reach) };
        var audiences = targets.Count > 0 ? targets : reach.Intersect(subject.GetAudiences(), StringComparer.Ordinal).ToList();
        if (audiences.Count == 0) return new OAuthError(Errors.InvalidTarget, "The subject token is for none of these scopes' resources.");

        if (await SubjectAsync(subject, granted, ct) is not { } principal)
            return new OAuthError(Errors.InvalidRequest, "The subject token's user can no longer sign in.") { Detail = "token exchange: user gone, locked out or unconfirmed" };
        principal.SetScopes(scopes);
        principal.SetResources(audiences);
        // Without an actor the delegation history stays as it was: dropping it would let a service present "acting for
        // the person" as the person's own delegation to it.
        if (actor is not null) ((ClaimsIdentity)principal.Identity!).AddClaim(Act(actor, subject));
        else if (subject.GetClaim(ActClaim) is { } earlier) ((ClaimsIdentity)principal.Identity!).AddClaim(ActClaimOf(earlier));
        if (subject.GetExpirationDate() is { } subjectExpires)
        {
            var left = subjectExpires - time.GetUtcNow();
            if (await LifetimeAsync(request.ClientId!, ct) is not { } lifetime || left < lifetime)
                principal.SetAccessTokenLifetime(left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
        }
        return principal;
    }

    /// <summary>What OpenIddict would give the client's access token: its own lifetime setting, else the server's.</summary>
    private async Task<TimeSpan?> LifetimeAsync(string clientId, CancellationToken ct)
    {
        // Already loaded (and cached) by the client's authentication.
        var application = await applications.FindByClientIdAsync(clientId, ct) ?? throw new InvalidOperationException($"Client {clientId} vanished.");
        var settings = await applications.GetSettingsAsync(application, ct);
        return settings.TryGetValue(Settings.TokenLifetimes.AccessToken, out var value) && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var own)
            ? own
            : server.CurrentValue.AccessTokenLifetime;
    }

    /// <summary>
    /// The subject as it is now: a person from the user store (checked again, SPEC §2) in the subject token's sign-in,
    /// or a client acting for itself (a client_credentials token has no sign-in). On PostgreSQL the person came with the
    /// subject token's row, as for userinfo: from the database, or from this node's copy of the entry, which a change
    /// to the person's row drops (AccessTokenEntries).
    /// </summary>
    private async Task<ClaimsPrincipal?> SubjectAsync(ClaimsPrincipal subject, IReadOnlySet<string> scopes, CancellationToken ct)
    {
        var id = subject.GetClaim(Claims.Subject)!;
        if (subject.GetAuthorizationId() is not { } authorization) return Principals.ForClient(id);
        if (eligibility.Allows(await users.ById(db, read, id, ct)) is not { } user) return null;
        var roles = scopes.Contains(StandardScopes.Roles) ? await users.RolesOf(db, user.Id, ct) : [];
        var principal = Principals.ForUser(user, [.. roles], scopes, Principals.AuthenticatedAt(subject) ?? DateTimeOffset.FromUnixTimeSeconds(0),
            subject.GetClaim("sid") ?? Authorization.Sessions.NewId());
        principal.SetAuthorizationId(authorization);
        return principal;
    }

    /// <summary>
    /// RFC 8693 §4.1: <c>act</c> names the actor (its subject, and client_id when it is a client's token); an <c>act</c>
    /// the subject token already had is nested inside, the most recent actor outermost.
    /// </summary>
    private static Claim Act(ClaimsPrincipal actor, ClaimsPrincipal subject)
    {
        var act = new JsonObject { [Claims.Subject] = actor.GetClaim(Claims.Subject) };
        if (actor.GetClaim(Claims.ClientId) is { } clientId) act[Claims.ClientId] = clientId;
        if (subject.GetClaim(ActClaim) is { } earlier && JsonNode.Parse(earlier) is JsonObject chain) act[ActClaim] = chain;
        return ActClaimOf(act.ToJsonString());
    }

    private static Claim ActClaimOf(string json) => ClaimDestinations.ToAccessTokenOnly(new Claim(ActClaim, json, "JSON"));
}
