using System.ComponentModel.DataAnnotations;

namespace Identity.Server.Accounts.Contracts;

/// <summary>
/// An address we can send the confirmation and reset links to: local-part@domain, the local part a dot-atom (RFC 5322
/// §3.4.1, with the UTF-8 letters RFC 6531 allows) of at most 64 characters, the domain dot-separated labels of letters,
/// digits and hyphens. [EmailAddress] only asks for one '@' somewhere inside, so "a b@example.com" or "x@exa mple.com"
/// made accounts whose every email the mail library then refused: accounts that could never be confirmed. Quoted local
/// parts and address literals are refused too: legal, but a sign-up form is not where they are worth their risk.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter)]
public sealed class MailboxAttribute() : ValidationAttribute("The {0} field is not a valid email address.")
{
    public override bool IsValid(object? value) => value is null || value is string text && IsMailbox(text);

    public static bool IsMailbox(string text)
    {
        var at = text.LastIndexOf('@');
        if (at <= 0 || at > 64 || at == text.Length - 1 || text.Length > 254) return false;
        return IsDotAtom(text[..at]) && IsDomain(text[(at + 1)..]);
    }

    private static bool IsDotAtom(string local)
    {
        foreach (var part in local.Split('.'))
        {
            if (part.Length == 0) return false; // a leading, trailing or doubled dot
            foreach (var c in part)
                if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+/=?^_`{|}~-".Contains(c) || c > 0x7F && char.IsLetterOrDigit(c))) return false;
        }
        return true;
    }

    private static bool IsDomain(string domain)
    {
        foreach (var label in domain.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c > 0x7F && char.IsLetterOrDigit(c))) return false;
        }
        return true;
    }
}
