using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6), both checked by OpenIddict, which also redeems the code once; a second
/// use is refused and revokes everything the first issued (§4.1.2; Token/Rotation/RevokeAuthorizationOnReuse).
/// </summary>
internal sealed class AuthorizationCodeGrantHandler(PresentedGrant presented) : ITokenGrantHandler
{
    public Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct) =>
        presented.SignInAgainAsync(http, "authorization code");
}
