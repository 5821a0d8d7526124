using Identity.Server.Protocol.Resources;
using Microsoft.AspNetCore;
using Identity.Server.Accounts;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Scopes;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// GET and POST /connect/authorize, reached once OpenIddict has validated the request (client, redirect URI, response
/// type, scopes, PKCE). Makes sure a person is signed in recently enough (prompt, max_age) and has consented — the
/// consent page posts its decision back here — then signs in: OpenIddict issues the code and sends it to the client.
/// Errors it could not send to the client (an unknown client or redirect URI) are shown to the person instead. A POST
/// without the session cookie (a client's cross-site form) arrives here as a GET (<see cref="Transport.RedirectPostsWithoutSessionCookieToGet{TContext}"/>).
/// </summary>
internal sealed class AuthorizationEndpoint(SignInPolicy signIn, UserManager<ApplicationUser> users, Consents consents, ScopeCatalog catalog,
    IssuerUri issuer, IAntiforgery antiforgery, PushedRequests pushed, TimeProvider time)
{
    public const string DecisionParameter = "consent_decision";

    /// <summary>
    /// What a sign-in on the login page answers, left out of the request it returns to, or the person would be asked
    /// forever: prompt=login and select_account, and max_age (auth_time counts whole seconds, so a sign-in just made is
    /// already older than max_age=0); and id_token_hint, since whoever signs in there is the answer (below). Kept, a
    /// hint naming someone else sent the person who signed in back to the login page once more, without a word.
    /// </summary>
    private static readonly string[] AnsweredBySigningIn = [PromptValues.Login, PromptValues.SelectAccount, Parameters.MaxAge, Parameters.IdTokenHint];

    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        if (http.GetOpenIddictServerResponse() is { Error: { } error } refused)
            return ErrorPages.Refused(refused.ErrorDescription ?? error);
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The authorization request was not parsed by OpenIddict.");

        var session = await http.AuthenticateAsync(PeopleSessions.Scheme);
        var authenticatedAt = session.Succeeded ? PeopleSessions.AuthenticatedAt(session.Principal) : null;
        var tooOld = request.MaxAge is { } maxAge && authenticatedAt is { } at && (time.GetUtcNow() - at).TotalSeconds > maxAge; // TimeSpan.FromSeconds overflows near long.MaxValue
        var user = session.Succeeded ? await signIn.FindUserWhoCanSignInAsync(session.Principal.FindFirst("sub")!.Value) : null;
        // select_account (OIDC Core §3.1.2.1, advertised by OpenIddict's discovery): the login page is where a person
        // chooses which account to continue with, so it is asked like login.
        if (user is null || authenticatedAt is null || tooOld || request.HasPromptValue(PromptValues.Login) || request.HasPromptValue(PromptValues.SelectAccount))
        {
            if (request.HasPromptValue(PromptValues.None)) return OAuthResults.Reject(new OAuthError(Errors.LoginRequired, "The user is not signed in."));
            return await LoginPageAsync(http, request, AnsweredBySigningIn, ct);
        }

        // OIDC Core §3.1.2.1: a request naming, by its id_token_hint, someone other than the person signed in here is not
        // answered with the signed-in person's code. Silent, it gets login_required; interactive, the login page, where
        // the person named can sign in. Whoever signs in there is the answer (the client sees sub), so the hint, answered,
        // is left out of the request the login page returns to.
        if (request.IdTokenHint is not null
            && (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal?.FindFirst(Claims.Subject)?.Value is { } hinted
            && hinted != user.Id)
        {
            if (request.HasPromptValue(PromptValues.None))
                return OAuthResults.Reject(new OAuthError(Errors.LoginRequired, "The user named by the id_token_hint is not signed in."));
            return await LoginPageAsync(http, request, AnsweredBySigningIn, ct);
        }

        var scopes = request.GetScopes();
        if (http.Request.HasFormContentType && (await http.Request.ReadFormAsync(ct))[DecisionParameter] is [{ } decision])
        {
            // The consent page's answer: a form post of the person's, so it must carry the page's anti-forgery token,
            // which is bound to the signed-in person as the page saw them.
            http.User = session.Principal!;
            if (!await antiforgery.IsRequestValidAsync(http)) return ErrorPages.Refused("The consent form expired; start again from the application.");
            // A pushed request's scopes come from its request_uri; the consent page showed the copy in its URL, which must match.
            if (PushedRequests.Of(http) is not null && (await http.Request.ReadFormAsync(ct))[Parameters.Scope] != request.Scope)
                return ErrorPages.Refused("The consent form does not match the request; start again from the application.");
            if (decision != "allow") return OAuthResults.Reject(new OAuthError(Errors.AccessDenied, "The user denied the request."));
            if (!await consents.GrantAsync(user.Id, request.ClientId!, scopes, ct))
                return ErrorPages.Refused("The application no longer exists.");
        }
        else if (await consents.IsRequiredAsync(user.Id, request.ClientId!, scopes, ct) || request.HasPromptValue(PromptValues.Consent))
        {
            if (request.HasPromptValue(PromptValues.None)) return OAuthResults.Reject(new OAuthError(Errors.ConsentRequired, "The user has not consented."));
            if (await ReturnUrlAsync(http, request, [PromptValues.Consent], ct) is not { } afterConsent) return RequestUsed();
            // The consent page names the scopes from its returnUrl: a continued pushed request carries a copy (checked on the way back).
            if (PushedRequests.Of(http) is not null) afterConsent = QueryHelpers.AddQueryString(afterConsent, Parameters.Scope, request.Scope ?? "");
            return Results.Redirect(QueryHelpers.AddQueryString("/connect/consent", "returnUrl", afterConsent));
        }

        var granted = scopes.ToHashSet(StringComparer.Ordinal);
        var roles = granted.Contains(StandardScopes.Roles) ? await users.GetRolesAsync(user) : [];
        var principal = Principals.ForUser(user, [.. roles], granted, authenticatedAt.Value, session.Principal!.FindFirst("sid")?.Value ?? Sessions.NewId());
        principal.SetScopes(scopes);
        // RFC 8707 §2.1: the resources asked for (each one of the scopes', RejectResourcesOutsideTheScopes) are what the code's tokens are for.
        var audiences = catalog.AudiencesOf(granted, issuer.Value);
        if (request.GetResources() is { Length: > 0 } asked)
        {
            if (RequestedResources.Resolve(asked, audiences) is not { } narrowed)
                return OAuthResults.Reject(new OAuthError(Errors.InvalidTarget, RequestedResources.NotReached(RequestedResources.Outside(asked, audiences)!)));
            audiences = narrowed;
        }
        principal.SetResources(audiences);
        return OAuthResults.SignIn(principal);
    }

    /// <summary>
    /// The same request as a local URL, minus what was just satisfied — prompt values, and max_age once the person has
    /// signed in — (and the consent form's own fields); for a pushed request, a continuation of it
    /// (<see cref="PushedRequests"/>), or null when its request_uri was used meanwhile.
    /// </summary>
    private async Task<string?> ReturnUrlAsync(HttpContext http, OpenIddictRequest request, string[] satisfied, CancellationToken ct) =>
        PushedRequests.Of(http) is not null ? await pushed.ContinueAsync(http, request, satisfied, ct) : ReturnUrl(http, request, satisfied);

    /// <summary>To the login page, which comes back to this request minus what signing in answers.</summary>
    private async Task<IResult> LoginPageAsync(HttpContext http, OpenIddictRequest request, string[] answered, CancellationToken ct) =>
        await ReturnUrlAsync(http, request, answered, ct) is { } afterLogin
            ? Results.Redirect(QueryHelpers.AddQueryString("/account/login", "returnUrl", afterLogin))
            : RequestUsed();

    private static IResult RequestUsed() => ErrorPages.Refused("This sign-in request was already used; start again from the application.");

    private static string ReturnUrl(HttpContext http, OpenIddictRequest request, string[] satisfied)
    {
        var query = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in request.GetParameters())
            if (name is not (Parameters.Prompt or DecisionParameter or "__RequestVerificationToken") && !satisfied.Contains(name)) query[name] = (string?)value;
        var remaining = string.Join(' ', request.GetPromptValues().Where(p => !satisfied.Contains(p)));
        if (remaining.Length > 0) query[Parameters.Prompt] = remaining;
        return QueryHelpers.AddQueryString(http.Request.PathBase + ProtocolPaths.Authorization, query);
    }
}
