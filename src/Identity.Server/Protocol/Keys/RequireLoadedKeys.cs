using Identity.Server.Hosting;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// First thing on every protocol request: until the keys were first read — the database not migrated yet — it is
/// answered 503. Reloading the ring is done before OpenIddict takes its options for the request (<see cref="RefreshKeysWhenDue"/>).
/// </summary>
internal sealed class RequireLoadedKeys(KeyRing ring) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<RequireLoadedKeys>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        if (context.EndpointType == OpenIddictServerEndpointType.Unknown) return ValueTask.CompletedTask;
        if (ring.Current is null) throw new ServiceNotReadyException("The signing keys are not loaded yet: database migrations are pending.");
        return ValueTask.CompletedTask;
    }
}
