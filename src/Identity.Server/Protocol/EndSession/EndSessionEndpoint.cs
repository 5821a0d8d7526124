using System.Security.Claims;
using Microsoft.AspNetCore;
using Identity.Server.Accounts;
using Identity.Server.Protocol.Authorization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;

namespace Identity.Server.Protocol.EndSession;

/// <summary>
/// GET and POST /connect/endsession (OIDC RP-Initiated Logout 1.0), reached once OpenIddict has checked the
/// id_token_hint and that the post_logout_redirect_uri is registered: ends the browser session, then OpenIddict
/// returns to the client with its state — or, with nowhere to return to, the person sees that they are signed out.
/// A session the request cannot show it was made for is ended only once the person says so (the logout page). A POST
/// without the session cookie (a client's cross-site form) arrives here as a GET (<see cref="Transport.RedirectPostsWithoutSessionCookieToGet{TContext}"/>).
/// </summary>
internal sealed class EndSessionEndpoint
{
    private const string LogoutPage = "/account/logout";

    public async Task<IResult> HandleAsync(HttpContext http)
    {
        if (http.GetOpenIddictServerResponse() is { Error: { } error } refused)
            return ErrorPages.Refused(refused.ErrorDescription ?? error, "Sign-out request refused");
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The logout request was not parsed by OpenIddict.");
        http.Response.Headers.CacheControl = "no-store";

        var session = await http.AuthenticateAsync(PeopleSessions.Scheme);
        if (session.Succeeded)
        {
            // RP-Initiated Logout §2: the OP MUST ask the person before ending their session when no id_token_hint was
            // given, or when the one given is not of this session and person; otherwise any page could sign people out
            // with a link. The logout page signs out, then comes back here, where nobody is signed in any more.
            var hint = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
            if (!IsOfThisSession(hint, session.Principal))
                return Results.Redirect(QueryHelpers.AddQueryString(LogoutPage, "returnUrl", ThisRequestAgain(request, hint)));
            await http.SignOutAsync(PeopleSessions.Scheme);
        }
        // RP-Initiated Logout §3: without an id_token_hint "the OP MUST NOT perform post-logout redirection unless the OP
        // has other means of confirming the legitimacy of the post-logout redirection target". A client_id is such a means
        // (the URI must be one of that client's); with neither, OpenIddict accepted any client's registered URI.
        return request.PostLogoutRedirectUri is null || (request.IdTokenHint is null && request.ClientId is null)
            ? ErrorPages.SignedOut()
            : Results.SignOut(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static bool IsOfThisSession(ClaimsPrincipal? hint, ClaimsPrincipal session) =>
        hint?.FindFirst("sub")?.Value is { } subject && subject == session.FindFirst("sub")?.Value
        && hint.FindFirst("sid")?.Value is { } sid && sid == session.FindFirst("sid")?.Value;

    /// <summary>
    /// This request again, as a GET: where the logout page sends the person once they are signed out. Without its
    /// id_token_hint, which a client that POSTed the request kept out of URLs (it names the person) and which has done
    /// its work: the client it was issued to stands in for it, so that the post_logout_redirect_uri is still checked
    /// against that client's.
    /// </summary>
    private static string ThisRequestAgain(OpenIddictRequest request, ClaimsPrincipal? hint)
    {
        var parameters = request.GetParameters()
            .Where(p => p.Key != OpenIddictConstants.Parameters.IdTokenHint && (string?)p.Value is not null)
            .ToDictionary(p => p.Key, p => (string?)p.Value);
        if (request.ClientId is null && hint?.GetAudiences() is [var audience]) parameters[OpenIddictConstants.Parameters.ClientId] = audience;
        return QueryHelpers.AddQueryString(ProtocolPaths.EndSession, parameters);
    }
}
