using System.ComponentModel.DataAnnotations;
using System.Text;

namespace Identity.Server.Accounts.Contracts;

/// <summary>
/// Text a name may be: a name is shown on pages and in tokens (name, given_name), so none of what would change how it,
/// or the rest of a line, is shown — control characters (PostgreSQL also refuses a NUL in text outright: a 500),
/// direction overrides and isolates (U+202E reverses what follows it, in the relying party's pages too), line and
/// paragraph separators, the invisible U+200B and U+FEFF, noncharacters and lone surrogates (input audit). Zero-width
/// joiners and variation selectors stay: some scripts and every joined emoji need them.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PrintableAttribute() : ValidationAttribute("The {0} field may not contain control, direction-changing or invisible characters.")
{
    public override bool IsValid(object? value)
    {
        if (value is not string text) return true;
        if (!IsWellFormed(text)) return false;
        foreach (var rune in text.EnumerateRunes())
            if (Rune.IsControl(rune) || IsRefused(rune.Value)) return false;
        return true;
    }

    private static bool IsRefused(int c) =>
        c is 0x061C or 0x200B or 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069) or 0x2028 or 0x2029 or 0xFEFF
        or (>= 0xFDD0 and <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }
        return true;
    }
}
