using System.Security.Claims;
using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// One grant's decision at the token endpoint, reached after OpenIddict has authenticated the client, checked its
/// grant and scope permissions and (for refresh tokens and codes) validated the presented token.
/// </summary>
public interface ITokenGrantHandler
{
    Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct);
}

/// <summary>Who signs in, or why not.</summary>
public readonly record struct GrantResult(ClaimsPrincipal? Principal, OAuthError? Error)
{
    public static implicit operator GrantResult(ClaimsPrincipal principal) => new(principal, null);
    public static implicit operator GrantResult(OAuthError error) => new(null, error);
}
