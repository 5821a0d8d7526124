namespace Identity.Server.Protocol.Device;

/// <summary>
/// What a user code looks like (RFC 8628 §6.1): eight letters from twenty consonants, shown as <c>WDJB-MJHT</c>. No
/// vowels, so no words form, and no digits, so nothing reads as 0/O or 1/I; case-insensitive and indifferent to
/// dashes and spaces when typed. 20^8 ≈ 2.6·10^10 codes against a few live ones at a time, with failed attempts
/// rate-limited (UserCodeRateLimiter), makes guessing hopeless.
/// </summary>
internal static class UserCodes
{
    public const string Alphabet = "BCDFGHJKLMNPQRSTVWXZ";
    public const int Length = 8;
    public const string DisplayFormat = "{0}{1}{2}{3}-{4}{5}{6}{7}";
    /// <summary>The device code and its user code live this long (OpenIddict's default, RFC 8628 §3.2's example is 30 minutes).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>A typed code as it is stored: upper case, only the alphabet's letters (OpenIddict drops the rest too).</summary>
    public static string Normalize(string typed) => new([.. typed.ToUpperInvariant().Where(c => Alphabet.Contains(c, StringComparison.Ordinal))]);

    /// <summary>How a normalized code is shown and prefilled.</summary>
    public static string Display(string normalized) =>
        normalized.Length == Length ? string.Format(System.Globalization.CultureInfo.InvariantCulture, DisplayFormat, [.. normalized.Select(c => (object)c)]) : normalized;
}
