using Identity.Server.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace Identity.Server.Hosting;

/// <summary>
/// RFC 9110 §9.1: a general-purpose server MUST support HEAD, which §9.3.2 defines as GET without the content and with
/// the same header fields. OpenIddict reads only GET at its discovery documents and userinfo, and minimal API and MVC
/// routes match HEAD only when they list it, so a HEAD to one of the read-only resources below is handled as the GET it
/// stands for and its content thrown away (a HEAD response has none, whatever the server; Kestrel would drop it too).
/// Only these: a GET that changes something — authorize, end session, the email confirmation link — must not run for a
/// HEAD, which is safe (§9.2.1). Pages and static files answer HEAD themselves. Comes before routing, which matches on
/// the method.
/// </summary>
internal sealed class HeadAsGet(RequestDelegate next)
{
    private static readonly string[] ReadOnlyResources =
        [ProtocolPaths.Configuration, ProtocolPaths.JsonWebKeySet, ProtocolPaths.UserInfo, "/api/account/profile", "/openapi/v1.json"];

    public async Task InvokeAsync(HttpContext http)
    {
        if (!HttpMethods.IsHead(http.Request.Method) || !IsReadOnlyResource(http.Request.Path))
        {
            await next(http);
            return;
        }
        var body = http.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        http.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null, body));
        http.Request.Method = HttpMethods.Get;
        try
        {
            await next(http);
        }
        finally
        {
            // Logs and metrics record the method the client sent.
            http.Request.Method = HttpMethods.Head;
            http.Features.Set(body);
        }
    }

    /// <summary>The path, ignoring case and one trailing slash, as OpenIddict and routing match them.</summary>
    private static bool IsReadOnlyResource(PathString path)
    {
        foreach (var resource in ReadOnlyResources)
            if (path.StartsWithSegments(resource, StringComparison.OrdinalIgnoreCase, out var rest) && (!rest.HasValue || rest.Value == "/"))
                return true;
        return false;
    }
}
