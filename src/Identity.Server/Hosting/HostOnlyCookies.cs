using Identity.Server.Protocol;

namespace Identity.Server.Hosting;

/// <summary>
/// The session and anti-forgery cookies, named with the <c>__Host-</c> prefix when the server is reached over HTTPS
/// only (<c>Identity:RequireHttps</c>). A browser then accepts such a cookie only from this very host, Secure, for the
/// path "/": a page on a sibling subdomain can no longer plant its own session or anti-forgery cookie here, which would
/// sign a person in as the attacker (login CSRF) or pass the form check with a token of the attacker's making. Plain
/// HTTP (Development) cannot send a Secure cookie, so it keeps the unprefixed names.
/// </summary>
internal static class HostOnlyCookies
{
    public static void Apply(CookieBuilder cookie, string name, ProtocolOptions protocol)
    {
        if (!protocol.RequireHttps) return;
        cookie.Name = "__Host-" + name;
        cookie.SecurePolicy = CookieSecurePolicy.Always;
        cookie.Path = "/";
        cookie.Domain = null;
    }
}
