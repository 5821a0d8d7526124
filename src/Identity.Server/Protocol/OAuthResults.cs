using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;

namespace Identity.Server.Protocol;

/// <summary>
/// The one place that speaks OpenIddict's ASP.NET Core properties: what a passthrough endpoint returns becomes a
/// sign-in (tokens, a code) or an error OpenIddict writes in the endpoint's RFC format.
/// </summary>
internal static class OAuthResults
{
    public static IResult SignIn(ClaimsPrincipal principal) =>
        Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    /// <summary>
    /// Refuses through OpenIddict (RFC 6749 §5.2 at the token endpoint, a redirect at the authorization endpoint, a
    /// Bearer challenge at userinfo), or answers 429 itself: OpenIddict has no rate-limited answer.
    /// </summary>
    public static IResult Reject(OAuthError error) => error.RetryAfter is { } retryAfter
        ? new TooManyRequests(error, retryAfter)
        : Results.Forbid(Properties(error), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>A Bearer challenge (RFC 6750 §3) written by OpenIddict: 401 with the error in WWW-Authenticate.</summary>
    public static IResult Challenge(OAuthError error) =>
        Results.Challenge(Properties(error), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    private static AuthenticationProperties Properties(OAuthError error) => new(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error.Code,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = error.Description,
    });

    private sealed class TooManyRequests(OAuthError error, TimeSpan retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            response.StatusCode = error.StatusCode;
            response.Headers.CacheControl = "no-store";
            response.Headers.Pragma = "no-cache";
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
            return response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = error.Code, ["error_description"] = error.Description },
                JsonSerializerOptions.Web, "application/json;charset=UTF-8");
        }
    }
}
