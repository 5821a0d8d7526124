using Microsoft.AspNetCore;
using Identity.Server.Accounts;
using Identity.Server.Protocol.Authorization;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;

namespace Identity.Server.Protocol.EndSession;

/// <summary>
/// GET and POST /connect/endsession (OIDC RP-Initiated Logout 1.0), reached once OpenIddict has checked the
/// id_token_hint and that the post_logout_redirect_uri is registered: ends the browser session, then OpenIddict
/// returns to the client with its state — or, with nowhere to return to, the person sees that they are signed out.
/// </summary>
internal sealed class EndSessionEndpoint
{
    public async Task<IResult> HandleAsync(HttpContext http)
    {
        if (http.GetOpenIddictServerResponse() is { Error: { } error } refused)
            return ErrorPages.Refused(refused.ErrorDescription ?? error);
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The logout request was not parsed by OpenIddict.");
        await http.SignOutAsync(PeopleSessions.Scheme);
        http.Response.Headers.CacheControl = "no-store";
        return request.PostLogoutRedirectUri is null
            ? ErrorPages.SignedOut()
            : Results.SignOut(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }
}
