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

    /// <summary>The form's fields: the input's id, and the label's words for messages that name the property.</summary>
    private static readonly (string Field, string Id, string Label)[] Fields =
        [("Email", "email", "email address"), ("FirstName", "first", "first name"), ("LastName", "last", "last name"), ("Password", "password", "password")];

    public PageMessage? Message { get; private set; }
    public bool Done { get; private set; }
    /// <summary>Errors by input id, shown under their field and tied to it (aria-describedby); "" for the form as a whole.</summary>
    public Dictionary<string, List<string>> Errors { get; } = [];

    public void OnGet() { }

    public async Task OnPostAsync(CancellationToken ct)
    {
        var request = new RegisterRequest { Email = Email, Password = Password, FirstName = FirstName, LastName = LastName };
        var invalid = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(request, new(request), invalid, validateAllProperties: true))
        {
            foreach (var result in invalid) Add(result.MemberNames.FirstOrDefault(), result.ErrorMessage ?? "Invalid value.");
            // And the password rules, so that one answer marks every field at fault (as the API's 400 lists them).
            var refused = invalid.SelectMany(result => result.MemberNames).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var (field, messages) in registration.Check(request, refused))
                foreach (var message in messages) Add(field, message);
            Message = PageMessage.Error("Check the fields marked below.");
            return;
        }
        var (_, error) = await registration.RegisterAsync(request, ct);
        if (error is not null)
        {
            foreach (var (field, messages) in error.Errors)
                foreach (var message in messages) Add(field, message);
            Message = PageMessage.Error("Check the fields marked below.");
            return;
        }
        Done = true;
        Message = PageMessage.Success("Your account is created. We sent you a link to confirm your email address.");
    }

    public string? ErrorIdFor(string id) => Errors.ContainsKey(id) ? id + "-error" : null;

    /// <summary>Under the field it is about, in the label's words ("The FirstName field" reads "The first name field").</summary>
    private void Add(string? field, string message)
    {
        var (name, id, label) = Fields.FirstOrDefault(f => string.Equals(f.Field, field, StringComparison.OrdinalIgnoreCase));
        if (id is not null) message = message.Replace($"The {name} field", $"The {label} field", StringComparison.Ordinal);
        var key = id ?? "";
        if (!Errors.TryGetValue(key, out var list)) Errors[key] = list = [];
        list.Add(message);
    }
}
