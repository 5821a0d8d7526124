namespace Identity.Server.Protocol;

/// <summary>An expected protocol failure (RFC 6749 §5.2): the code, a description the client may see, a detail for logs only.</summary>
public sealed record OAuthError(string Code, string Description, int StatusCode = StatusCodes.Status400BadRequest)
{
    /// <summary>Logged, never sent.</summary>
    public string? Detail { get; init; }
    /// <summary>Sent as Retry-After (429, 503).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static OAuthError InvalidRequest(string description) => new("invalid_request", description);
    public static OAuthError InvalidClient() => new("invalid_client", "Client authentication failed.", StatusCodes.Status401Unauthorized);
    public static OAuthError InvalidGrant(string detail) => new("invalid_grant", "The grant is invalid, expired or revoked.") { Detail = detail };
    public static OAuthError InvalidGrantDescribed(string description, string detail) => new("invalid_grant", description) { Detail = detail };
    public static OAuthError UnauthorizedClient() => new("unauthorized_client", "The client is not allowed to use this grant type.");
    public static OAuthError UnsupportedGrantType() => new("unsupported_grant_type", "The grant type is not supported.");
    public static OAuthError InvalidScope(string detail) => new("invalid_scope", "The requested scope is invalid, unknown, or not allowed for this client.") { Detail = detail };
    public static OAuthError TooManyRequests(TimeSpan retryAfter) =>
        new("slow_down", "Too many requests; retry later.", StatusCodes.Status429TooManyRequests) { RetryAfter = retryAfter };
}
