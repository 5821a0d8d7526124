using Identity.Server.Protocol;
using Identity.Server.Protocol.Authorization;
using Microsoft.Extensions.Options;

namespace Identity.Server.Hosting;

/// <summary>
/// With <c>Identity:RequireHttps</c>, the pages and the account API refuse plain HTTP as the protocol endpoints do (SPEC
/// §2): the login, register and reset pages and the account API take passwords, which a misrouted port or proxy took in
/// clear text (RFC 6749 §3.1: the user authentication at the authorization endpoint MUST use TLS; OAuth security BCP
/// audit). A page gets the refusal page, the API problem details. The probes and /metrics stay reachable over HTTP
/// inside the cluster; OpenIddict's own endpoints are refused by RejectPlainHttp.
/// </summary>
internal sealed class RefusePlainHttpForPeople(RequestDelegate next, IOptions<ProtocolOptions> options)
{
    private static readonly string[] PeoplesPaths = ["/account", "/api/account", "/connect/consent"];

    public async Task InvokeAsync(HttpContext http)
    {
        if (!options.Value.RequireHttps || http.Request.IsHttps
            || !PeoplesPaths.Any(p => http.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            await next(http);
            return;
        }
        http.Response.Headers.CacheControl = "no-store";
        if (EndpointFamilies.Of(http.Request.Path) == EndpointFamily.Api)
            await ApiProblems.WriteAsync(http, StatusCodes.Status400BadRequest, "HTTPS is required.");
        else
            await ErrorPages.Refused("HTTPS is required.", "Request refused").ExecuteAsync(http);
    }
}
