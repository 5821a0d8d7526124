using System.Net;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// Pages a person sees outside Razor Pages: a request that cannot be trusted to name where to send an error (RFC 6749
/// §4.1.2.1), the end of a sign-out with nowhere to return to, and a path with no page.
/// </summary>
internal static class ErrorPages
{
    public static IResult Refused(string message, string title = "Sign-in request refused") =>
        Page(title, "error", message, "<p>Return to the application and try again; if it keeps happening, tell its developers.</p>",
            StatusCodes.Status400BadRequest);

    public static IResult SignedOut() => Page("Signed out", "success", "You are signed out.", "", StatusCodes.Status200OK);

    /// <summary>A path with no page, for a person (the framework's 404 is empty: the browser showed its own page).</summary>
    public static IResult NotFound() =>
        Page("Page not found", "error", "There is no page at this address.", """<p><a href="/account/login">Go to the sign-in page</a></p>""",
            StatusCodes.Status404NotFound);

    private static IResult Page(string title, string kind, string message, string more, int status) => Results.Content($"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{title}</title><link rel="stylesheet" href="/css/site.css"></head>
        <body><main><h1>{title}</h1><div class="message {kind}" role="{(kind == "error" ? "alert" : "status")}" id="message"><p>{WebUtility.HtmlEncode(message)}</p></div>
        {more}</main></body></html>
        """, "text/html; charset=utf-8", statusCode: status);
}
