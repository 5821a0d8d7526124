using Microsoft.AspNetCore.Diagnostics;

namespace Identity.Server.Hosting;

/// <summary>
/// Errors the framework answers with no body — 405 from routing, 415 from <c>[Consumes]</c>, 404 for an unknown path,
/// a bare 401 or 403 — get one in the format of their family (SPEC §6): problem details on the account API (SPEC §3),
/// an OAuth error for a path that does not exist among the protocol endpoints, and for people a page that says there
/// is no such page (where the browser showed its own "This page can't be found"). Page forms that fail their
/// anti-forgery check have their own page (<see cref="Pages.ShowExpiredForms"/>).
/// </summary>
internal static class EmptyErrorResponses
{
    public static IApplicationBuilder UseBodiesForEmptyErrors(this IApplicationBuilder app) => app.UseStatusCodePages(WriteAsync);

    private static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        return EndpointFamilies.Of(http.Request.Path) switch
        {
            EndpointFamily.Api => ApiProblems.WriteAsync(http, http.Response.StatusCode, Detail(http.Response.StatusCode, http.Request)),
            // Only "no such endpoint": a 401 without an error is RFC 6750 §3.1's answer to a request that carried no
            // credentials, and OpenIddict writes every other error of these endpoints itself.
            EndpointFamily.Protocol when http.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed =>
                EndpointFamilies.WriteOAuthErrorAsync(http.Response, "invalid_request", "There is no such endpoint; /.well-known/openid-configuration lists them."),
            EndpointFamily.Page when http.Response.StatusCode is StatusCodes.Status404NotFound => Protocol.Authorization.ErrorPages.NotFound().ExecuteAsync(http),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>What a newcomer to the API needs to know to get it right the next time.</summary>
    private static string? Detail(int status, HttpRequest request) => status switch
    {
        StatusCodes.Status415UnsupportedMediaType => "The body must be JSON, sent with Content-Type: application/json.",
        StatusCodes.Status405MethodNotAllowed => $"This path does not accept {request.Method}; the Allow header lists what it does.",
        StatusCodes.Status404NotFound => "There is no such endpoint; /openapi/v1.json describes the account API.",
        _ => null,
    };
}
