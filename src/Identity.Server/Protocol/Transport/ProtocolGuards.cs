using Identity.Server.Hosting;
using Identity.Server.Protocol.Clients;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// SPEC §2 "Browsers and transport": HTTPS on the protocol endpoints when required, and CORS for exactly the origins
/// clients list in AllowedCorsOrigins — the matching origin echoed, any other (including "null") given no headers.
/// </summary>
internal sealed class ProtocolGuards(RequestDelegate next, IOptions<ProtocolOptions> options)
{
    private static readonly string[] CorsPaths =
        ["/connect/token", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/.well-known", "/api/account"];

    public async Task InvokeAsync(HttpContext http, ClientStore clients)
    {
        var path = http.Request.Path;
        if (options.Value.RequireHttps && !http.Request.IsHttps && IsProtocolPath(path))
        {
            await OAuthResults.Error(OAuthError.InvalidRequest("HTTPS is required.")).ExecuteAsync(http);
            return;
        }
        if (http.Request.Headers.Origin is [{ } origin] && CorsPaths.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))
            && await clients.IsAllowedOriginAsync(origin, http.RequestAborted))
        {
            var headers = http.Response.Headers;
            headers.AccessControlAllowOrigin = origin;
            headers.Vary = "Origin";
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

    private static bool IsProtocolPath(PathString path) =>
        EndpointFamilies.Of(path) == EndpointFamily.Protocol
        || path.StartsWithSegments("/connect/authorize", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/connect/endsession", StringComparison.OrdinalIgnoreCase);
}
