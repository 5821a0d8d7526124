using Identity.Server.Accounts;
using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Server.Pages.Account;

internal sealed class RegisterModel(RegistrationHandler registration) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? FirstName { get; set; }
    [BindProperty] public string? LastName { get; set; }

    public PageMessage? Message { get; private set; }
    public bool Done { get; private set; }
    public IReadOnlyList<string> Errors { get; private set; } = [];

    public void OnGet() { }

    public async Task OnPostAsync(CancellationToken ct)
    {
        var request = new RegisterRequest { Email = Email, Password = Password, FirstName = FirstName, LastName = LastName };
        var invalid = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(request, new(request), invalid, validateAllProperties: true))
        {
            Errors = invalid.Select(v => v.ErrorMessage ?? "Invalid value.").ToList();
            return;
        }
        var (_, error) = await registration.RegisterAsync(request, ct);
        if (error is not null)
        {
            Errors = error.Errors.SelectMany(e => e.Value).ToList();
            return;
        }
        Done = true;
        Message = PageMessage.Success("Your account is created. We sent you a link to confirm your email address.");
    }
}
