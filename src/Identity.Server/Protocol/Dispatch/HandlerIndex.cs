using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Identity.Server.Protocol.Dispatch;

/// <summary>
/// The handlers of each OpenIddict event, in order: OpenIddict's dispatchers walk every registered handler (about 460
/// on the server) on every event to find the dozen of its type, a dozen times per request. This lists each event's
/// handlers once per options instance (a rebuilt options object, after a key rotation, brings a new list) and keeps
/// the instance of every singleton handler and filter. Lifetimes are read from the service collection the host was
/// built from, which is read-only by the time the first event is dispatched. A scoped handler or filter that DI would
/// build from its constructor is built by <see cref="Activators"/> instead.
/// </summary>
internal sealed class HandlerIndex(IServiceCollection services)
{
    public ScopedActivators Activators { get; } = new(services);

    private readonly ConcurrentDictionary<Type, Entry> byContextType = new();

    public HandlerSlot[] For<TDescriptor>(Type contextType, List<TDescriptor> handlers, Func<TDescriptor, Type> contextTypeOf,
        Func<TDescriptor, ServiceDescriptor> serviceOf, Func<TDescriptor, IEnumerable<Type>> filtersOf)
    {
        if (byContextType.TryGetValue(contextType, out var entry) && ReferenceEquals(entry.Source, handlers)) return entry.Slots;
        var slots = handlers.Where(descriptor => contextTypeOf(descriptor) == contextType)
            .Select(descriptor => new HandlerSlot(descriptor!, serviceOf(descriptor), Activators,
                filtersOf(descriptor).Select(type => new ServiceSlot(type, Activators.RegisteredLifetime(type) ?? ServiceLifetime.Transient,
                    activation: Activators.For(type))).ToArray()))
            .ToArray();
        byContextType[contextType] = new Entry(handlers, slots);
        return slots;
    }

    private sealed record Entry(object Source, HandlerSlot[] Slots);
}

/// <summary>One handler of an event: its descriptor, its filters, and its instance once resolved if there is only one.</summary>
internal sealed class HandlerSlot(object descriptor, ServiceDescriptor service, ScopedActivators activators, ServiceSlot[] filters)
{
    private readonly ServiceSlot handler = new(service.ServiceType, service.Lifetime, service.ImplementationInstance,
        service.Lifetime == ServiceLifetime.Scoped ? activators.For(service.ServiceType) : null);

    public object Descriptor => descriptor;

    public ServiceSlot[] Filters => filters;

    /// <summary>
    /// The handler as <typeparamref name="T"/>: the registered instance, the singleton resolved before, this request's
    /// instance, or a new resolution.
    /// </summary>
    public T? Resolve<T>(RequestServices request) where T : class => handler.Resolve<T>(request);
}

/// <summary>
/// A handler or filter service, kept once resolved when it is a singleton, made by its activation when it has one.
/// </summary>
internal sealed class ServiceSlot(Type type, ServiceLifetime lifetime, object? instance = null, Activation? activation = null)
{
    private object? shared = instance;
    private object? sharedAndVerified;
    private Type? verified;

    public Type Type => type;

    private object? Resolve(RequestServices request)
    {
        if (shared is not null) return shared;
        if (activation is not null) return request.Get(activation);
        var resolved = request.Provider.GetService(type);
        // Resolving a singleton from a request's scope returns the root instance: keeping it is what DI would do.
        if (lifetime == ServiceLifetime.Singleton) shared = resolved;
        return resolved;
    }

    /// <summary>
    /// The service as <typeparamref name="T"/>, or null if it is not one. OpenIddict's handler and filter interfaces
    /// are contravariant in their context, and a type test against a variant interface from shared generic code goes
    /// through the runtime's cast cache every time (1.5 % of an introspection's samples, a dozen tests per event). A
    /// slot belongs to one event's list, so it is always asked for the same <typeparamref name="T"/>: a kept instance
    /// that passed the test once is handed out untested, and a new instance of a type that passed is tested by its
    /// type alone (reading an object's type was itself 1.5 % of a refresh's samples when done for every singleton).
    /// </summary>
    public T? Resolve<T>(RequestServices request) where T : class
    {
        if (sharedAndVerified is not null) return Unsafe.As<T>(sharedAndVerified);
        var resolved = Resolve(request);
        if (resolved is null) return null;
        if (resolved.GetType() != verified)
        {
            if (resolved is not T) return null;
            verified = resolved.GetType();
        }
        if (ReferenceEquals(resolved, shared)) sharedAndVerified = resolved;
        return Unsafe.As<T>(resolved);
    }
}
