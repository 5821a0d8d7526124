using Identity.Server.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

/// <summary>Signing out changes state, so it takes a POST with an anti-forgery token; a GET only asks.</summary>
internal sealed class LogoutModel : PageModel
{
    public PageMessage? Message { get; private set; }

    public void OnGet() { }

    public async Task OnPostAsync()
    {
        await HttpContext.SignOutAsync(PeopleSessions.Scheme);
        Message = PageMessage.Success("You are signed out.");
    }
}
