using Identity.Server.Accounts;
using Identity.Server.Protocol;
using Identity.Server.Protocol.Authorization;
using Identity.Server.Protocol.Scopes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;

namespace Identity.Server.Pages.Connect;

/// <summary>
/// Asks the person whether the client may have the scopes it requested, in plain words. The answer is posted back to
/// the authorization endpoint with the request's own parameters, where OpenIddict validates the request again and the
/// decision is applied: "Allow" is remembered as a permanent authorization; "Deny" sends access_denied to the client
/// (RFC 6749 §4.1.2.1).
/// </summary>
[Microsoft.AspNetCore.Authorization.Authorize(AuthenticationSchemes = PeopleSessions.Scheme)]
internal sealed class ConsentModel(IOpenIddictApplicationManager applications) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    public string ClientName { get; private set; } = "";
    public IReadOnlyList<string> ScopeDescriptions { get; private set; } = [];
    /// <summary>The authorization request's parameters, posted back with the decision.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; private set; } = [];
    public string Action => ProtocolPaths.Authorization;
    public string DecisionParameter => AuthorizationEndpoint.DecisionParameter;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        // The page trusts nothing it is handed: the authorization endpoint validates the request again on the way back.
        if (!Url.IsLocalUrl(ReturnUrl) || !ReturnUrl.StartsWith(ProtocolPaths.Authorization + "?", StringComparison.Ordinal)) return Refused();
        var query = QueryHelpers.ParseQuery(new Uri(new Uri("http://local"), ReturnUrl).Query);
        if (query.Any(p => p.Value.Count != 1)) return Refused();
        Parameters = query.Select(p => new KeyValuePair<string, string>(p.Key, p.Value.ToString())).ToList();
        var clientId = query.GetValueOrDefault("client_id").ToString();
        if (clientId.Length is 0 or > 100 || await applications.FindByClientIdAsync(clientId, ct) is not { } application) return Refused();
        ClientName = await applications.GetLocalizedDisplayNameAsync(application, ct) ?? clientId;
        ScopeDescriptions = query.GetValueOrDefault("scope").ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Describe).ToList();
        return Page();
    }

    private ActionResult Refused() => new ContentResult
    {
        StatusCode = StatusCodes.Status400BadRequest, ContentType = "text/plain; charset=utf-8", Content = "The consent request is not valid.",
    };

    internal static string Describe(string scope) => scope switch
    {
        StandardScopes.OpenId => "Know who you are (your account identifier)",
        StandardScopes.Profile => "See your name and user name",
        StandardScopes.Email => "See your email address",
        StandardScopes.OfflineAccess => "Keep access while you are away (stay signed in)",
        StandardScopes.Roles => "See your roles",
        _ => $"Use the API \"{scope}\" on your behalf",
    };
}
