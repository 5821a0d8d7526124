using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Identity.Server.Hosting;

/// <summary>
/// Errors the framework answers with no body — 405 from routing, 415 from <c>[Consumes]</c>, 404 for an unknown path,
/// a bare 401 or 403 — get one on the account API: problem details, like every other error there (SPEC §3, §6).
/// Protocol endpoints and pages are left as they answer.
/// </summary>
internal static class EmptyErrorResponses
{
    public static IApplicationBuilder UseProblemDetailsForEmptyApiErrors(this IApplicationBuilder app) => app.UseStatusCodePages(WriteAsync);

    private static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (EndpointFamilies.Of(http.Request.Path) != EndpointFamily.Api) return;
        var status = http.Response.StatusCode;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Detail = Detail(status, http.Request) },
        });
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
