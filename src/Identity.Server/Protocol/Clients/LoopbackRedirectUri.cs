namespace Identity.Server.Protocol.Clients;

/// <summary>
/// RFC 8252 §7.3: a native app listening on a loopback IP address gets an ephemeral port from the operating system at
/// the time of the request, so it registers its redirect URI once and the server "MUST allow any port to be specified".
/// Only the IP literals <c>127.0.0.1</c> and <c>[::1]</c> over <c>http</c> qualify: §8.3 calls <c>localhost</c> NOT
/// RECOMMENDED (the name may resolve to something else, and a firewall may let another host answer on it), so a
/// <c>localhost</c> redirect URI still matches exactly, port included.
/// </summary>
internal static class LoopbackRedirectUri
{
    private static readonly string[] Origins = ["http://127.0.0.1", "http://[::1]"];

    /// <summary>
    /// Whether <paramref name="presented"/> differs from <paramref name="registered"/>, a loopback IP literal, at most in
    /// the port (one where the registration has none, none where it has one, or another). The rest is compared as text,
    /// as OpenIddict compares redirect URIs: scheme and host in the same spelling, path and query to the last character.
    /// </summary>
    public static bool IsPortVariant(string registered, string presented) =>
        Split(registered) is ({ } origin, { } rest) && Split(presented) is ({ } otherOrigin, { } otherRest)
        && string.Equals(origin, otherOrigin, StringComparison.Ordinal) && string.Equals(rest, otherRest, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="presented"/> names a loopback IP literal, with a port or without: the only case <see cref="IsPortVariant"/> can widen.</summary>
    public static bool IsLoopbackIpLiteral(string presented) => Split(presented).Origin is not null;

    /// <summary>The origin without its port and what follows the authority, or nulls when the URI is not a loopback IP literal.</summary>
    private static (string? Origin, string? AfterAuthority) Split(string uri)
    {
        foreach (var origin in Origins)
        {
            if (!uri.StartsWith(origin, StringComparison.Ordinal)) continue;
            var tail = uri.AsSpan(origin.Length);
            if (tail.StartsWith(":"))
            {
                // RFC 3986 §3.2.3 port: digits only, 1-65535 here, and no leading zero, so one port has one spelling.
                var port = tail[1..];
                var digits = port.IndexOfAnyExceptInRange('0', '9') is var end and >= 0 ? port[..end] : port;
                if (digits.Length is 0 or > 5 || digits[0] == '0' || int.Parse(digits) > 65535) return (null, null);
                tail = tail[(1 + digits.Length)..];
            }
            // Anything else after the host (127.0.0.1.example.com, 127.0.0.1@evil) is another authority.
            if (!tail.IsEmpty && tail[0] is not ('/' or '?')) return (null, null);
            return (origin, tail.ToString());
        }
        return (null, null);
    }
}
