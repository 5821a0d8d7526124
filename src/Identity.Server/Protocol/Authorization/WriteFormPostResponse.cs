using Microsoft.AspNetCore;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// The form_post response mode (OAuth 2.0 Form Post Response Mode §2): a page that posts the response to the redirect
/// URI. In place of OpenIddict's ProcessFormPostResponse, whose inline script our pages' Content-Security-Policy would
/// block: here the script carries a per-response nonce that the page's own policy allows, and nothing else runs.
/// </summary>
internal sealed class WriteFormPostResponse : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<WriteFormPostResponse>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.Authentication.ProcessFormPostResponse.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        if (string.IsNullOrEmpty(context.RedirectUri) || context.ResponseMode != OpenIddictConstants.ResponseModes.FormPost) return;
        var response = context.Transaction.GetHttpRequest()!.HttpContext.Response;
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var inputs = new StringBuilder();
        foreach (var (name, value) in context.Response.GetParameters())
            if ((string?)value is { Length: > 0 } text)
                inputs.Append($"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(name)}\" value=\"{WebUtility.HtmlEncode(text)}\">");
        var html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Continue</title></head>
            <body><form method="post" action="{WebUtility.HtmlEncode(context.RedirectUri)}">{inputs}<noscript><button type="submit">Continue</button></noscript></form>
            <script nonce="{nonce}">document.forms[0].submit();</script></body></html>
            """;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        // No form-action: Chromium applies it to every redirect the form's post leads to, so a client whose callback then
        // sends the person to another of its origins (a gateway's /signin-oidc to the front end) left them on a blank
        // page; and a private-use scheme redirect URI has no origin to name. The form's action is the validated
        // redirect URI, written here and encoded, and no other markup is on the page.
        response.Headers.ContentSecurityPolicy = $"default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors 'none'";
        await response.WriteAsync(html, context.CancellationToken);
        context.HandleRequest();
    }
}
