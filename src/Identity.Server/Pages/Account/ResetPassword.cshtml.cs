using Identity.Server.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

/// <summary>The page the reset link opens. Showing the form does not use the token; submitting a good password does.</summary>
internal sealed class ResetPasswordModel(PasswordResetHandler reset) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? UserId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Token { get; set; }
    [BindProperty] public string? NewPassword { get; set; }
    [BindProperty] public string? ConfirmPassword { get; set; }

    public PageMessage? Message { get; private set; }
    public bool LinkUsable { get; private set; }
    public bool Done { get; private set; }
    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        LinkUsable = await reset.IsUsableAsync(UserId, Token, ct);
        if (!LinkUsable) Message = PageMessage.Error("This link is invalid, has expired or was already used.");
    }

    public async Task OnPostAsync(CancellationToken ct)
    {
        LinkUsable = true;
        if (string.IsNullOrEmpty(NewPassword) || NewPassword != ConfirmPassword)
        {
            Errors = ["The two passwords differ."];
            return;
        }
        var error = await reset.ResetAsync(UserId ?? "", Token ?? "", NewPassword, ct);
        if (error is null)
        {
            Done = true;
            Message = PageMessage.Success("Your password is changed, and every session that used the old one has been signed out.");
            return;
        }
        if (error.Errors.ContainsKey("token"))
        {
            LinkUsable = false;
            Message = PageMessage.Error("This link is invalid, has expired or was already used.");
            return;
        }
        Errors = error.Errors.SelectMany(e => e.Value).ToList();
    }
}
