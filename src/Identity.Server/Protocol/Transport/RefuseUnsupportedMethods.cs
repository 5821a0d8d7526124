using Identity.Server.Hosting;
using Microsoft.Net.Http.Headers;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// RFC 9110 §15.5.6: a method the resource does not support is 405 with an <c>Allow</c> header. OpenIddict answers a PUT
/// to the token endpoint, or a POST to discovery, 400 invalid_request, while the endpoints routing serves (authorize,
/// end session, the account API) answered 405: one rule now, with the error body of the protocol family so that an
/// OAuth client still reads it. After CORS (a preflight from a listed origin is answered there); HEAD is GET by then
/// where GET is.
/// </summary>
internal sealed class RefuseUnsupportedMethods(RequestDelegate next)
{
    private static readonly (string Path, string[] Methods)[] Endpoints =
    [
        (ProtocolPaths.Token, [HttpMethods.Post]),
        (ProtocolPaths.Revocation, [HttpMethods.Post]),
        (ProtocolPaths.Introspection, [HttpMethods.Post]),
        (ProtocolPaths.PushedAuthorization, [HttpMethods.Post]),
        (ProtocolPaths.DeviceAuthorization, [HttpMethods.Post]),
        (ProtocolPaths.UserInfo, [HttpMethods.Get, HttpMethods.Post]),
        (ProtocolPaths.Configuration, [HttpMethods.Get]),
        (ProtocolPaths.JsonWebKeySet, [HttpMethods.Get]),
    ];

    public async Task InvokeAsync(HttpContext http)
    {
        if (Allowed(http.Request.Path) is not { } allowed || allowed.Contains(http.Request.Method, StringComparer.OrdinalIgnoreCase))
        {
            await next(http);
            return;
        }
        var response = http.Response;
        response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        response.Headers.Allow = string.Join(", ", allowed.Contains(HttpMethods.Get) ? [.. allowed, HttpMethods.Head] : allowed);
        response.Headers.CacheControl = "no-store";
        await EndpointFamilies.WriteOAuthErrorAsync(response, Errors.InvalidRequest,
            $"This endpoint takes {string.Join(" or ", allowed)}, not {(http.Request.Method.Length <= 20 ? http.Request.Method : "that method")}.");
    }

    /// <summary>The methods of the endpoint at <paramref name="path"/> (ignoring case and one trailing slash, as OpenIddict matches it), or null.</summary>
    private static string[]? Allowed(PathString path)
    {
        foreach (var (endpoint, methods) in Endpoints)
            if (path.StartsWithSegments(endpoint, StringComparison.OrdinalIgnoreCase, out var rest) && (!rest.HasValue || rest.Value == "/"))
                return methods;
        return null;
    }
}
