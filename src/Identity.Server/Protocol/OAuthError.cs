using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol;

/// <summary>An expected protocol failure (RFC 6749 §5.2): the code, a description the client may see, a detail for logs only.</summary>
public sealed record OAuthError(string Code, string Description, int StatusCode = StatusCodes.Status400BadRequest)
{
    /// <summary>Logged, never sent.</summary>
    public string? Detail { get; init; }
    /// <summary>Sent as Retry-After (429, 503).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static OAuthError InvalidGrant(string detail) => new(Errors.InvalidGrant, "The grant is invalid, expired or revoked.") { Detail = detail };
    public static OAuthError InvalidGrantDescribed(string description, string detail) => new(Errors.InvalidGrant, description) { Detail = detail };
    public static OAuthError InvalidScope(string detail) =>
        new(Errors.InvalidScope, "The requested scope is invalid, unknown, or not allowed for this client.") { Detail = detail };
    public static OAuthError InsufficientScope(string description) => new(Errors.InsufficientScope, description, StatusCodes.Status403Forbidden);
    public static OAuthError InvalidToken(string description) => new(Errors.InvalidToken, description, StatusCodes.Status401Unauthorized);
    public static OAuthError TooManyRequests(TimeSpan retryAfter) =>
        new(Errors.SlowDown, "Too many requests; retry later.", StatusCodes.Status429TooManyRequests) { RetryAfter = retryAfter };
}
