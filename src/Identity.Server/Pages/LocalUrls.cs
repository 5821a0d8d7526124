using System.Text;

namespace Identity.Server.Pages;

/// <summary>
/// A returnUrl arrives decoded from the query, so "/connect/authorize?state=café" holds a raw é, and a Location header
/// may carry ASCII only: the redirect threw, a 500 after the person had been signed in (or out). Such characters, and
/// spaces and controls, go back out percent-encoded as UTF-8, as they came in.
/// </summary>
internal static class LocalUrls
{
    public static string ForLocation(string url)
    {
        if (!url.Any(c => c is <= ' ' or >= '\u007f')) return url;
        var encoded = new StringBuilder(url.Length + 16);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in url.EnumerateRunes())
        {
            if (rune.Value is > ' ' and < 0x7f)
            {
                encoded.Append((char)rune.Value);
                continue;
            }
            for (var i = 0; i < rune.EncodeToUtf8(bytes); i++) encoded.Append('%').Append(bytes[i].ToString("X2"));
        }
        return encoded.ToString();
    }
}
