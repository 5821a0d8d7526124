using Identity.Server.Accounts;
using Identity.Server.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

/// <summary>
/// Signing out changes state, so it takes a POST with an anti-forgery token; a GET only asks. An application's logout
/// request that could not show it was made for this session (the end-session endpoint) comes here first, and goes back
/// to it once the person has signed out.
/// </summary>
internal sealed class LogoutModel : PageModel
{
    public PageMessage? Message { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>Only the end-session endpoint is returned to: anything else would make this page an open redirect.</summary>
    public bool FromApplication => ReturnUrl is { } url && url.StartsWith(ProtocolPaths.EndSession + "?", StringComparison.Ordinal) && Url.IsLocalUrl(url);

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(PeopleSessions.Scheme);
        if (FromApplication) return LocalRedirect(LocalUrls.ForLocation(ReturnUrl!));
        Message = PageMessage.Success("You are signed out.");
        return Page();
    }
}
