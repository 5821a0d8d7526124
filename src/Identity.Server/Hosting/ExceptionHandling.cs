using Microsoft.AspNetCore.Diagnostics;

namespace Identity.Server.Hosting;

/// <summary>
/// The one path for unhandled exceptions. Each endpoint family gets its own format (SPEC §6), exception text never
/// reaches the client, and an unreachable database becomes 503 with Retry-After.
/// </summary>
internal static class ExceptionHandling
{
    public const int RetryAfterSeconds = 5;

    public static IApplicationBuilder UseServerExceptionHandling(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteAsync, SuppressDiagnosticsCallback = _ => true });

    private static async Task WriteAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExceptionHandling));
        var (status, code, title) = Classify(exception);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            logger.DatabaseUnavailable(context.Request.Path, exception?.GetType().Name);
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        }
        else if (status >= 500)
            logger.UnhandledException(exception, context.Request.Path);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";

        switch (EndpointFamilies.Of(context.Request.Path))
        {
            case EndpointFamily.Protocol:
                await EndpointFamilies.WriteOAuthErrorAsync(context.Response, code, title);
                break;
            case EndpointFamily.Api:
                await ApiProblems.WriteAsync(context, status, title);
                break;
            default:
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.WriteAsync(ErrorPage(status, title));
                break;
        }
    }

    private static (int Status, string Code, string Title) Classify(Exception? exception) => exception switch
    {
        BadHttpRequestException bad => (bad.StatusCode, "invalid_request", "The request could not be read."),
        InvalidDataException => (StatusCodes.Status400BadRequest, "invalid_request", "The request could not be read."),
        not null when DatabaseFaults.IsUnavailable(exception) =>
            (StatusCodes.Status503ServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable; retry later."),
        _ => (StatusCodes.Status500InternalServerError, "server_error", "The server encountered an unexpected error."),
    };

    private static string ErrorPage(int status, string title) =>
        $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Error {status}</title></head>
        <body><main><h1>Something went wrong</h1><p>{System.Net.WebUtility.HtmlEncode(title)}</p></main></body></html>
        """;
}
