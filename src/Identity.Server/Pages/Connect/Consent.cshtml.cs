using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol;
using Identity.Server.Protocol.Authorize;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Protocol.Scopes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Pages.Connect;

/// <summary>
/// Asks the person whether the client may have the scopes it requested, in plain words. "Allow" is remembered as a
/// permanent authorization; "Deny" sends access_denied to the client (RFC 6749 §4.1.2.1).
/// </summary>
[Microsoft.AspNetCore.Authorization.Authorize(AuthenticationSchemes = PeopleSessions.Scheme)]
internal sealed class ConsentModel(AuthorizeRequestValidator validator, ServerDbContext db, IssuerUri issuer, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? Decision { get; set; }
    public string ClientName { get; private set; } = "";
    public IReadOnlyList<string> ScopeDescriptions { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var (request, refusal) = await LoadAsync(ct);
        if (refusal is not null) return refusal;
        ClientName = request!.Client.DisplayName;
        ScopeDescriptions = request.Scopes.Select(Describe).ToList();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var (request, refusal) = await LoadAsync(ct);
        if (refusal is not null) return refusal;
        if (Decision == "allow")
        {
            await ConsentStore.GrantAsync(db, User.FindFirst("sub")!.Value, request!.Client.ClientId, request.Scopes, time.GetUtcNow(), ct);
            return LocalRedirect(ReturnUrl!);
        }
        var denied = AuthorizeResponses.Send(HttpContext, request!.RedirectUri, request.ResponseMode, new Dictionary<string, string?>
        {
            ["error"] = "access_denied", ["error_description"] = "The user denied the request.", ["state"] = request.State, ["iss"] = issuer.Value,
        });
        return new ResultAction(denied);
    }

    /// <summary>The authorization request behind returnUrl, validated again: the page trusts nothing it is handed.</summary>
    private async Task<(AuthorizeRequest?, IActionResult?)> LoadAsync(CancellationToken ct)
    {
        // [Authorize] with the session cookie has signed the person in before anti-forgery checks the form.
        if (!Url.IsLocalUrl(ReturnUrl) || !ReturnUrl.StartsWith("/connect/authorize?", StringComparison.Ordinal))
            return (null, new ResultAction(AuthorizeResponses.ErrorPage("The consent request is not valid.")));
        var (parameters, error) = ProtocolForm.FromQuery(new QueryCollection(QueryHelpers.ParseQuery(new Uri(new Uri("http://local"), ReturnUrl).Query)));
        if (error is not null) return (null, new ResultAction(AuthorizeResponses.ErrorPage(error.Description)));
        var validation = await validator.ValidateAsync(parameters!, ct);
        if (validation.Request is null) return (null, new ResultAction(AuthorizeResponses.ErrorPage("The consent request is not valid.")));
        return (validation.Request, null);
    }

    private static string Describe(string scope) => scope switch
    {
        StandardScopes.OpenId => "Know who you are (your account identifier)",
        StandardScopes.Profile => "See your name and user name",
        StandardScopes.Email => "See your email address",
        StandardScopes.OfflineAccess => "Keep access while you are away (stay signed in)",
        StandardScopes.Roles => "See your roles",
        _ => $"Use the API \"{scope}\" on your behalf",
    };

    private sealed class ResultAction(IResult result) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
    }
}
