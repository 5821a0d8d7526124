using Identity.Server.Protocol.Clients;
using Microsoft.Net.Http.Headers;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// SPEC §2 "Browsers and transport", before OpenIddict sees the request (it does no CORS, and would answer a preflight
/// with 400): the endpoints browsers call answer preflights and requests from exactly the origins clients list in
/// AllowedCorsOrigins — the matching origin echoed — and any other origin, including "null", gets no CORS headers.
/// </summary>
internal sealed class ProtocolGuards(RequestDelegate next)
{
    private static readonly string[] CorsPaths =
        ["/connect/token", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/.well-known", "/api/account"];

    public async Task InvokeAsync(HttpContext http, ClientOrigins origins)
    {
        if (!CorsPaths.Any(p => http.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            await next(http);
            return;
        }
        // Every answer here depends on Origin, also one without CORS headers: discovery and JWKS are cacheable
        // (Cache-Control: public), and a shared cache must not hand a listed origin the copy made for another.
        var headers = http.Response.Headers;
        headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        if (http.Request.Headers.Origin is [{ } origin] && await origins.IsAllowedAsync(origin, http.RequestAborted))
        {
            headers.AccessControlAllowOrigin = origin;
            if (HttpMethods.IsOptions(http.Request.Method) && http.Request.Headers.AccessControlRequestMethod.Count > 0)
            {
                headers.AccessControlAllowMethods = "GET, POST, PUT";
                headers.AccessControlAllowHeaders = "Authorization, Content-Type, DPoP";
                headers.AccessControlMaxAge = "600";
                http.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }
            headers.AccessControlExposeHeaders = "WWW-Authenticate, Retry-After";
        }
        await next(http);
    }
}
