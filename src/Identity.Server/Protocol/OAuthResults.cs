using System.Text.Json;
using System.Text.Json.Serialization;

namespace Identity.Server.Protocol;

/// <summary>The one place that knows the protocol's wire format.</summary>
internal static class OAuthResults
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>RFC 6749 §5.1: token responses must not be cached.</summary>
    public static IResult NoStore<T>(T body, int statusCode = StatusCodes.Status200OK) => new JsonNoStoreResult<T>(body, statusCode, null);

    /// <summary>RFC 6749 §5.2; a 401 invalid_client after Basic authentication carries WWW-Authenticate (§5.2, RFC 7617).</summary>
    public static IResult Error(OAuthError error, bool basicAuthenticationUsed = false)
    {
        var headers = new Dictionary<string, string>();
        if (error.StatusCode == StatusCodes.Status401Unauthorized)
            headers["WWW-Authenticate"] = basicAuthenticationUsed ? "Basic realm=\"identity\", charset=\"UTF-8\"" : "Basic realm=\"identity\"";
        if (error.RetryAfter is { } retry)
            headers["Retry-After"] = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString();
        return new JsonNoStoreResult<ErrorBody>(new ErrorBody(error.Code, error.Description), error.StatusCode, headers);
    }

    public sealed record ErrorBody(
        [property: JsonPropertyName("error")] string Error,
        [property: JsonPropertyName("error_description")] string Description);

    private sealed class JsonNoStoreResult<T>(T body, int statusCode, Dictionary<string, string>? headers) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            response.StatusCode = statusCode;
            response.Headers.CacheControl = "no-store";
            response.Headers.Pragma = "no-cache";
            foreach (var (name, value) in headers ?? []) response.Headers[name] = value;
            return response.WriteAsJsonAsync(body, Json, "application/json;charset=UTF-8");
        }
    }
}
