using Identity.Server.Accounts;
using Identity.Server.Protocol.Token;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

/// <summary>
/// Sign-in for people, under the same rules as the password grant: the same policy counts lockouts and checks
/// confirmation, and the same limiter slows guessing. Only a local returnUrl is followed.
/// </summary>
internal sealed class LoginModel(SignInPolicy signIn, PasswordGrantRateLimiter limiter, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? UserName { get; set; }
    [BindProperty] public string? Password { get; set; }
    public PageMessage? Message { get; private set; }
    /// <summary>After the right password of an unconfirmed account: its link may be lost or expired (24 hours).</summary>
    public bool OfferNewConfirmationLink { get; private set; }

    public void OnGet(bool signedIn = false)
    {
        if (signedIn) Message = PageMessage.Success("You are signed in.");
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (string.IsNullOrEmpty(UserName) || string.IsNullOrEmpty(Password))
            return Fail("Enter your email or user name and your password.");
        if (limiter.TryAcquire("login-page", UserName, HttpContext.Connection.RemoteIpAddress) is not null)
            return Fail("Too many attempts; wait a minute and try again.");
        var (outcome, user) = await signIn.CheckPasswordAsync(UserName, Password, SignInChannel.LoginPage, HttpContext.RequestAborted);
        switch (outcome)
        {
            case SignInOutcome.InvalidCredentials:
                return Fail("The email, user name or password is wrong.");
            case SignInOutcome.LockedOut:
                return Fail("This account is locked after too many failed attempts; try again later.");
            case SignInOutcome.NotConfirmed:
                OfferNewConfirmationLink = true;
                return Fail("Confirm your email address first: open the link we sent you.");
        }
        await HttpContext.SignInAsync(PeopleSessions.Scheme, PeopleSessions.Principal(user!, time.GetUtcNow()));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? LocalUrls.ForLocation(ReturnUrl) : "/account/login?signedIn=1");
    }

    private PageResult Fail(string message)
    {
        Message = PageMessage.Error(message);
        Password = null;
        return Page();
    }
}
