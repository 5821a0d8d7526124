using System.ComponentModel.DataAnnotations;
using Identity.Server.Accounts;
using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

internal sealed class ForgotPasswordModel(PasswordResetHandler reset) : PageModel
{
    [BindProperty, Required, Mailbox, MaxLength(256)]
    public string? Email { get; set; }

    public PageMessage? Message { get; private set; }

    public void OnGet() { }

    public async Task OnPostAsync(CancellationToken ct)
    {
        if (ModelState.IsValid) await reset.ForgotAsync(Email!, ct);
        // The same answer whether or not the address has an account (no enumeration).
        Message = ModelState.IsValid
            ? PageMessage.Info("If an account uses this address, a link to reset its password is on its way.")
            : PageMessage.Error("Enter a valid email address.");
    }
}
