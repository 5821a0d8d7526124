using System.Collections.Concurrent;

namespace Identity.Server.Protocol.Dispatch;

/// <summary>
/// The handlers of each OpenIddict event, in order: OpenIddict's dispatchers walk every registered handler (about 460
/// on the server) on every event to find the dozen of its type, a dozen times per request. This lists each event's
/// handlers once per options instance (a rebuilt options object, after a key rotation, brings a new list) and keeps
/// the instance of every singleton handler.
/// </summary>
internal sealed class HandlerIndex
{
    private readonly ConcurrentDictionary<Type, Entry> byContextType = new();

    public HandlerSlot[] For<TDescriptor>(Type contextType, List<TDescriptor> handlers, Func<TDescriptor, Type> contextTypeOf,
        Func<TDescriptor, ServiceDescriptor> serviceOf)
    {
        if (byContextType.TryGetValue(contextType, out var entry) && ReferenceEquals(entry.Source, handlers)) return entry.Slots;
        var slots = handlers.Where(descriptor => contextTypeOf(descriptor) == contextType)
            .Select(descriptor => new HandlerSlot(descriptor!, serviceOf(descriptor)))
            .ToArray();
        byContextType[contextType] = new Entry(handlers, slots);
        return slots;
    }

    private sealed record Entry(object Source, HandlerSlot[] Slots);
}

/// <summary>One handler of an event: its descriptor, and its instance once resolved if there is only one.</summary>
internal sealed class HandlerSlot(object descriptor, ServiceDescriptor service)
{
    private object? shared = service.ImplementationInstance;

    public object Descriptor => descriptor;

    /// <summary>The handler: the registered instance, the singleton resolved before, or a new resolution.</summary>
    public object? Resolve(IServiceProvider provider)
    {
        if (shared is not null) return shared;
        var handler = provider.GetService(service.ServiceType);
        // Resolving a singleton from a request's scope returns the root instance: keeping it is what DI would do.
        if (service.Lifetime == ServiceLifetime.Singleton) shared = handler;
        return handler;
    }
}
