using System.ComponentModel.DataAnnotations;
using Identity.Server.Accounts;
using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

/// <summary>The page the confirmation link opens: confirmed, already confirmed, or a clear failure with a way to a new link.</summary>
internal sealed class ConfirmEmailModel(EmailConfirmationHandler confirmation) : PageModel
{
    public PageMessage Message { get; private set; } = PageMessage.Info("");
    public bool OfferNewLink { get; private set; }

    [BindProperty, Mailbox, MaxLength(256)]
    public string? Email { get; set; }

    public async Task OnGetAsync(string? userId, string? token, CancellationToken ct)
    {
        if (userId is null && token is null)
        {
            // Opened from the login page's offer, not from an email: nothing to confirm, a link to ask for.
            Message = PageMessage.Info("Enter the address you registered with, and we will send it a new confirmation link.");
            OfferNewLink = true;
            return;
        }
        switch (await confirmation.ConfirmAsync(userId, token, ct))
        {
            case ConfirmationOutcome.Confirmed:
                Message = PageMessage.Success("Your email address is confirmed. You can sign in now.");
                break;
            case ConfirmationOutcome.AlreadyConfirmed:
                Message = PageMessage.Info("Your email address was already confirmed. You can sign in.");
                break;
            default:
                Message = PageMessage.Error("This link is invalid or has expired. Ask for a new one below.");
                OfferNewLink = true;
                break;
        }
    }

    public async Task OnPostResendAsync(CancellationToken ct)
    {
        OfferNewLink = true;
        if (!ModelState.IsValid || string.IsNullOrWhiteSpace(Email))
        {
            Message = PageMessage.Error("Enter a valid email address.");
            return;
        }
        await confirmation.ResendAsync(Email, ct);
        Message = PageMessage.Info("If an unconfirmed account uses this address, a new link is on its way.");
    }
}
