using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Protocol.Authorize;

/// <summary>How authorization responses reach the client (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode) and the person.</summary>
internal static class AuthorizeResponses
{
    /// <summary>query: a 302 to the redirect URI; form_post: a page that posts the parameters to it.</summary>
    public static IResult Send(HttpContext http, string redirectUri, string responseMode, IReadOnlyDictionary<string, string?> parameters)
    {
        http.Response.Headers.CacheControl = "no-store";
        var present = parameters.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
        if (responseMode != "form_post")
            return Results.Redirect(QueryHelpers.AddQueryString(redirectUri, present));

        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        http.Response.Headers.ContentSecurityPolicy = $"default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors 'none'";
        var inputs = string.Concat(present.Select(p => $"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(p.Key)}\" value=\"{WebUtility.HtmlEncode(p.Value)}\">"));
        return Results.Content($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Continue</title></head>
            <body><form method="post" action="{WebUtility.HtmlEncode(redirectUri)}">{inputs}<noscript><button type="submit">Continue</button></noscript></form>
            <script nonce="{nonce}">document.forms[0].submit();</script></body></html>
            """, "text/html; charset=utf-8");
    }

    /// <summary>For a request that cannot be trusted to name where to send an error: tell the person, not the client.</summary>
    public static IResult ErrorPage(string message) => Results.Content($"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Sign-in request refused</title><link rel="stylesheet" href="/css/site.css"></head>
        <body><main><h1>Sign-in request refused</h1><div class="message error" role="alert" id="message"><p>{WebUtility.HtmlEncode(message)}</p></div>
        <p>Return to the application and try again; if it keeps happening, tell its developers.</p></main></body></html>
        """, "text/html; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
}
