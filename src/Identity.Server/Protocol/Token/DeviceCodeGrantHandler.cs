using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 8628 §3.4: the device's poll once the person allowed it at /connect/verify. OpenIddict has checked the device
/// code (pending, denied, expired and used codes never get here; polling too fast is SlowDownEagerPolling's) and
/// redeems it once; the person is checked again and signed in afresh from the user store, like a code redemption.
/// </summary>
internal sealed class DeviceCodeGrantHandler(PresentedGrant presented) : ITokenGrantHandler
{
    public Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct) =>
        presented.SignInAgainAsync(http, "device code");
}
