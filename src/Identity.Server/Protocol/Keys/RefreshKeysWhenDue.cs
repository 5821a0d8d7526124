using Identity.Server.Hosting;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// First thing on every protocol request: the ring is reloaded from the database when something in it is due (a key
/// activates or retires, or the reload interval passed), so a rotation takes effect on every node without a restart.
/// Until the keys were first read — the database not migrated yet — protocol requests are answered 503.
/// </summary>
internal sealed class RefreshKeysWhenDue(KeyRing ring, KeyRingLoader loader) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<RefreshKeysWhenDue>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessRequestContext context)
    {
        if (context.EndpointType == OpenIddictServerEndpointType.Unknown) return;
        if (ring.Current is null) throw new ServiceNotReadyException("The signing keys are not loaded yet: database migrations are pending.");
        await loader.GetAsync(context.CancellationToken);
    }
}
