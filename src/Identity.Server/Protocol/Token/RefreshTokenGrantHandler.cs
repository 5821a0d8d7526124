using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §6 with rotation on every use (RFC 9700 §4.14.2). OpenIddict has validated the refresh token; rotation —
/// one successor however many concurrent uses, the same one again inside the reuse leeway — happens in its sign-in
/// pipeline (Token/Rotation). A narrower scope applies to the new access token only; the new refresh token keeps the
/// original (§6).
/// </summary>
internal sealed class RefreshTokenGrantHandler(PresentedGrant presented) : ITokenGrantHandler
{
    public Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct) =>
        presented.SignInAgainAsync(http, "refresh token");
}
