using System.Security.Claims;
using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Authorization;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Storage;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// What the refresh and code grants share: the presented token, already validated by OpenIddict (signature, expiry,
/// status, client, PKCE), and the person behind it checked again now — deleted, locked out or unconfirmed since (SPEC
/// §2) — and signed in afresh from the user store. Scopes, resources, the authorization and a code's nonce come back
/// from the token (OpenIddict restores its internal claims).
/// </summary>
internal sealed class PresentedGrant(SignInEligibility eligibility, ServerDbContext db, UserQueries queries, UntrackedRows read)
{
    public async Task<GrantResult> SignInAgainAsync(HttpContext http, string kind)
    {
        var authentication = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (authentication.Principal is not { } token) throw new InvalidOperationException($"OpenIddict validated no {kind}.");
        var user = eligibility.Allows(await queries.ById(db, read, token.GetClaim(Claims.Subject)!, http.RequestAborted));
        if (user is null) return OAuthError.InvalidGrant($"{kind}: user deleted, locked out or unconfirmed");

        var scopes = token.GetScopes().ToHashSet(StringComparer.Ordinal);
        var roles = scopes.Contains(StandardScopes.Roles) ? await queries.RolesOf(db, user.Id, http.RequestAborted) : [];
        ClaimsPrincipal principal = Principals.ForUser(user, [.. roles], scopes,
            Principals.AuthenticatedAt(token) ?? DateTimeOffset.FromUnixTimeSeconds(0), token.GetClaim("sid") ?? Sessions.NewId());
        return principal;
    }
}
