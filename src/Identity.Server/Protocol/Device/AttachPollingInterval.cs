using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// RFC 8628 §3.2's <c>interval</c> in the device authorization response, which OpenIddict leaves out: the seconds a
/// device waits between polls, the pace SlowDownEagerPolling holds it to.
/// </summary>
internal sealed class AttachPollingInterval : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDeviceAuthorizationRequest>()
            .UseSingletonHandler<AttachPollingInterval>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        context.Response[Parameters.Interval] = (long)DevicePolls.Interval.TotalSeconds;
        return ValueTask.CompletedTask;
    }
}
