using System.Net;

namespace Identity.Server.Protocol.Authorization;

/// <summary>What a person sees when a request cannot be trusted to name where to send an error (RFC 6749 §4.1.2.1).</summary>
internal static class ErrorPages
{
    public static IResult Refused(string message, string title = "Sign-in request refused") => Results.Content($"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{title}</title><link rel="stylesheet" href="/css/site.css"></head>
        <body><main><h1>{title}</h1><div class="message error" role="alert" id="message"><p>{WebUtility.HtmlEncode(message)}</p></div>
        <p>Return to the application and try again; if it keeps happening, tell its developers.</p></main></body></html>
        """, "text/html; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);

    public static IResult SignedOut() => Results.Content("""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Signed out</title><link rel="stylesheet" href="/css/site.css"></head>
        <body><main><h1>Signed out</h1><div class="message success" role="status" id="message"><p>You are signed out.</p></div></main></body></html>
        """, "text/html; charset=utf-8");
}
