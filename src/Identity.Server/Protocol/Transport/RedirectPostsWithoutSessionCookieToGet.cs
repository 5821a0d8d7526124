using Identity.Server.Accounts;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// OIDC Core §3.1.2.1 and RP-Initiated Logout §2: the authorization and end-session endpoints MUST take a POST, which a
/// client sends from its own site as an auto-submitted form. The browser session's cookie is SameSite=Lax, so the
/// browser leaves it off such a cross-site POST, and the request looked like nobody's: end session answered "signed
/// out" while the session lived on, and prompt=none answered login_required. Such a POST without the cookie is
/// answered 303 See Other to the same endpoint as a GET with the very same form parameters, every value of a repeated
/// resource or audience included (other repeats RejectRepeatedParameters has refused by then): a top-level GET
/// navigation carries the cookie. A GET is never redirected, so the second request is answered with whatever it
/// carries, and a person who really is signed out gets what they got before.
/// </summary>
internal sealed class RedirectPostsWithoutSessionCookieToGet<TContext>(IOptionsMonitor<CookieAuthenticationOptions> cookies)
    : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<RedirectPostsWithoutSessionCookieToGet<TContext>>()
            .SetOrder(RejectRepeatedParameters<TContext>.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(TContext context)
    {
        var http = context.Transaction.GetHttpRequest()!.HttpContext;
        var request = http.Request;
        // OpenIddict has refused a POST whose body is not a form by now; the guard keeps it that way if that changes.
        if (!HttpMethods.IsPost(request.Method) || !request.HasFormContentType) return;
        var session = cookies.Get(PeopleSessions.Scheme);
        if (session.CookieManager.GetRequestCookie(http, session.Cookie.Name!) is not null) return;
        // Fetch Metadata: from this site the browser sent every cookie it holds, so nobody is signed in; a redirect would
        // only copy the consent form's anti-forgery token into a URL.
        if (request.Headers["Sec-Fetch-Site"] is ["same-origin" or "same-site"]) return;

        var form = await request.ReadFormAsync(http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
        http.Response.Headers.Location = request.PathBase.Add(request.Path) + QueryString.Create(form);
        context.HandleRequest();
    }
}
