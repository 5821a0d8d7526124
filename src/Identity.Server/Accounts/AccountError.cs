using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>An expected account failure: a status and the fields at fault, mapped to RFC 9457 problem details.</summary>
public sealed record AccountError(int Status, IDictionary<string, string[]> Errors)
{
    public static AccountError Field(string field, string message, int status = StatusCodes.Status400BadRequest) =>
        new(status, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A 400 naming every field at fault, or null when none is.</summary>
    public static AccountError? Invalid(IDictionary<string, string[]> errors) =>
        errors.Count == 0 ? null : new(StatusCodes.Status400BadRequest, errors);

    /// <summary>This error and more fields at fault, in one answer (SPEC §3: the 400 lists the fields).</summary>
    public AccountError With(IDictionary<string, string[]> more) => more.Count == 0 ? this : this with
    {
        Errors = Errors.Concat(more).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.SelectMany(e => e.Value).ToArray()),
    };

    /// <summary>Identity's error codes, each placed on the field it concerns; duplicates are 409.</summary>
    public static AccountError FromIdentity(IdentityResult result, string passwordField = "password")
    {
        var duplicate = result.Errors.Any(e => e.Code is "DuplicateEmail" or "DuplicateUserName");
        var errors = result.Errors.GroupBy(e => e.Code switch
        {
            "DuplicateEmail" or "InvalidEmail" => "email",
            "DuplicateUserName" or "InvalidUserName" => "userName",
            "PasswordMismatch" => "currentPassword",
            var code when code.StartsWith("Password", StringComparison.Ordinal) => passwordField,
            _ => "",
        }).ToDictionary(g => g.Key, g => g.Select(e => e.Description).ToArray());
        return new AccountError(duplicate ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest, errors);
    }
}
