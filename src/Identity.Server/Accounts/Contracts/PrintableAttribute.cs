using System.ComponentModel.DataAnnotations;

namespace Identity.Server.Accounts.Contracts;

/// <summary>
/// Text without control characters: a name is shown on pages and in tokens, and PostgreSQL refuses a NUL in text
/// outright (the request answered 500).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PrintableAttribute() : ValidationAttribute("The {0} field may not contain control characters.")
{
    public override bool IsValid(object? value) => value is not string text || !text.Any(char.IsControl);
}
