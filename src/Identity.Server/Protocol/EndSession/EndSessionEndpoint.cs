using Identity.Server.Accounts;
using Identity.Server.Protocol.Authorize;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.EndSession;

/// <summary>
/// GET and POST /connect/endsession (OIDC RP-Initiated Logout 1.0): ends the browser session, then returns to the
/// client's registered post_logout_redirect_uri with its state, or shows that the person is signed out.
/// </summary>
internal sealed class EndSessionEndpoint(ClientStore clients, SigningKeyStore keys, IssuerUri issuer)
{
    private static readonly JsonWebTokenHandler Handler = new();

    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var (parameters, error) = HttpMethods.IsPost(http.Request.Method)
            ? await ProtocolForm.ReadAsync(http.Request, ct)
            : ProtocolForm.FromQuery(http.Request.Query);
        if (error is not null) return AuthorizeResponses.ErrorPage(error.Description);

        string? hintedClient = null;
        if (parameters!["id_token_hint"] is { } hint)
        {
            // An expired id_token is still a fine hint (§2); a forged one is not.
            var result = await Handler.ValidateTokenAsync(hint, (await keys.GetAsync(ct)).VerificationParameters(issuer.Value));
            if (!result.IsValid || result.SecurityToken is not JsonWebToken idToken || idToken.Audiences.Count() != 1)
                return AuthorizeResponses.ErrorPage("The id_token_hint is not valid.");
            hintedClient = idToken.Audiences.Single();
        }
        var clientId = parameters["client_id"];
        if (clientId is not null && hintedClient is not null && clientId != hintedClient)
            return AuthorizeResponses.ErrorPage("client_id does not match the id_token_hint.");
        clientId ??= hintedClient;

        var postLogout = parameters["post_logout_redirect_uri"];
        if (postLogout is not null)
        {
            var client = clientId is null ? null : await clients.FindAsync(clientId, ct);
            if (client is null || !client.PostLogoutRedirectUris.Contains(postLogout, StringComparer.Ordinal))
                return AuthorizeResponses.ErrorPage("The post_logout_redirect_uri is not registered for this application.");
        }

        await http.SignOutAsync(PeopleSessions.Scheme);
        http.Response.Headers.CacheControl = "no-store";
        if (postLogout is not null)
            return Results.Redirect(parameters["state"] is { } state ? QueryHelpers.AddQueryString(postLogout, "state", state) : postLogout);
        return Results.Content("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Signed out</title><link rel="stylesheet" href="/css/site.css"></head>
            <body><main><h1>Signed out</h1><div class="message success" role="status" id="message"><p>You are signed out.</p></div></main></body></html>
            """, "text/html; charset=utf-8");
    }
}
