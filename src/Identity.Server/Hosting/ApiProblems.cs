using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Hosting;

/// <summary>
/// The account API's errors written outside its controllers (challenges, refusals, exceptions, bodiless statuses):
/// problem details whatever the request's Accept header says, since RFC 9457's application/problem+json is the API's one
/// error format, and IProblemDetailsService, which negotiates, finds no writer for a browser's "text/html" and throws (a
/// 500 in place of the error). Built by the factory the controllers' own errors come from, so that the shape is one:
/// the status's type and title, a trace id, and what happened as the detail.
/// </summary>
internal static class ApiProblems
{
    public static Task WriteAsync(HttpContext http, int status, string? detail)
    {
        http.Response.StatusCode = status;
        var problem = http.RequestServices.GetRequiredService<ProblemDetailsFactory>().CreateProblemDetails(http, status, detail: detail);
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        return http.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", http.RequestAborted);
    }
}
