using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// RFC 6749 §5.2: a grant "issued to another client" is invalid_grant. OpenIddict checks the device code's client only
/// once the code is approved; while it is pending, any client polling it got authorization_pending, and its polls
/// counted against the device's interval (a third party knowing the code could make the device slow down). Refused
/// here, before the status or the interval is looked at.
/// </summary>
internal sealed class RejectDeviceCodesOfOtherClients : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<RequireDeviceCodeValidation>()
            .UseSingletonHandler<RejectDeviceCodesOfOtherClients>()
            .SetOrder(SlowDownEagerPolling.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is { } code && context.Request?.ClientId is { } clientId && !code.HasPresenter(clientId))
            context.Reject(Errors.InvalidGrant, "The device code was issued to another client.");
        return default;
    }
}
