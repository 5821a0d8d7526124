namespace Identity.Server.Hosting;

/// <summary>
/// Headers for every response: no sniffing, no framing (clickjacking on login and consent), and no Referer — the reset
/// and confirmation pages carry one-time tokens in their URLs, which must not leak to other sites.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        if (EndpointFamilies.Of(http.Request.Path) == EndpointFamily.Page)
            headers.ContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
        return next(http);
    }
}
