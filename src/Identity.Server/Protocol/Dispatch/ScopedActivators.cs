using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;

namespace Identity.Server.Protocol.Dispatch;

/// <summary>
/// Builds a request's scoped handlers and filters the way its DI scope would (the constructor DI picks, one instance
/// per type per request, every dependency the scope's own), without asking DI for the handler. A client_credentials
/// request resolves about 25 scoped handlers; each resolution from a scope is a lookup in the provider's table of
/// accessors, a lock and an insert into the scope's table of resolved services, which grows as they come (4.5 % of
/// a client_credentials profile, and a tenth of what it allocates). Only types DI itself would build from a
/// constructor are taken over: a scoped registration with an implementation type, not disposable (the scope would
/// dispose it), whose longest constructor is the only one of its length and asks only for scoped or singleton
/// services (or the provider) by type. Anything else (a factory, a transient or keyed dependency, a default value, an
/// enumerable) stays with DI. Dependencies are still resolved from the scope, once per request.
/// </summary>
internal sealed class ScopedActivators
{
    private static readonly MethodInfo Dependency = typeof(RequestServices).GetMethod(nameof(RequestServices.Dependency))!;
    private static readonly PropertyInfo Provider = typeof(RequestServices).GetProperty(nameof(RequestServices.Provider))!;

    private readonly IServiceCollection services;
    private readonly Lazy<Dictionary<Type, ServiceDescriptor>> registrations;
    private readonly Lock gate = new();
    private readonly Dictionary<Type, int> indexes = [];
    private readonly ConcurrentDictionary<Type, Activation?> activations = new();
    private Type[] types = [];

    public ScopedActivators(IServiceCollection services)
    {
        this.services = services;
        registrations = new(() => this.services.Where(s => !s.IsKeyedService).GroupBy(s => s.ServiceType).ToDictionary(g => g.Key, g => g.Last()));
    }

    /// <summary>The service types given a place in a request's table so far, by place.</summary>
    public Type[] Types => Volatile.Read(ref types);

    /// <summary>
    /// How <paramref name="serviceType"/> is made in a request, or null when DI must make it; compiled once per type,
    /// however many events list it.
    /// </summary>
    public Activation? For(Type serviceType) => activations.GetOrAdd(serviceType, Build);

    private Activation? Build(Type serviceType)
    {
        if (!registrations.Value.TryGetValue(serviceType, out var registration)
            || registration is not { Lifetime: ServiceLifetime.Scoped, ImplementationType: { } implementation }
            || typeof(IDisposable).IsAssignableFrom(implementation) || typeof(IAsyncDisposable).IsAssignableFrom(implementation)
            || implementation.IsAbstract || implementation.ContainsGenericParameters)
            return null;

        var constructors = implementation.GetConstructors();
        if (constructors.Length == 0) return null;
        var longest = constructors.Max(c => c.GetParameters().Length);
        if (constructors.Count(c => c.GetParameters().Length == longest) != 1) return null;
        var constructor = constructors.Single(c => c.GetParameters().Length == longest);

        var request = Expression.Parameter(typeof(RequestServices), "request");
        var arguments = new List<Expression>();
        foreach (var parameter in constructor.GetParameters())
        {
            if (parameter.HasDefaultValue || parameter.GetCustomAttributes(inherit: true).Any(a => a is FromKeyedServicesAttribute or ServiceKeyAttribute))
                return null;
            if (parameter.ParameterType == typeof(IServiceProvider)) { arguments.Add(Expression.Property(request, Provider)); continue; }
            if (LifetimeOf(parameter.ParameterType) is not (ServiceLifetime.Scoped or ServiceLifetime.Singleton)) return null;
            arguments.Add(Expression.Convert(Expression.Call(request, Dependency, Expression.Constant(IndexOf(parameter.ParameterType))), parameter.ParameterType));
        }
        var create = Expression.Lambda<Func<RequestServices, object>>(Expression.New(constructor, arguments), request).Compile();
        return new Activation(IndexOf(serviceType), create);
    }

    /// <summary>The lifetime of <paramref name="type"/>'s last registration by type, if it has one.</summary>
    public ServiceLifetime? RegisteredLifetime(Type type) => registrations.Value.TryGetValue(type, out var registration) ? registration.Lifetime : null;

    private ServiceLifetime? LifetimeOf(Type type)
    {
        if (RegisteredLifetime(type) is { } lifetime) return lifetime;
        return type.IsConstructedGenericType && registrations.Value.TryGetValue(type.GetGenericTypeDefinition(), out var open) ? open.Lifetime : null;
    }

    private int IndexOf(Type type)
    {
        lock (gate)
        {
            if (indexes.TryGetValue(type, out var index)) return index;
            index = indexes[type] = types.Length;
            Volatile.Write(ref types, [.. types, type]);
            return index;
        }
    }
}

/// <summary>A type's place in a request's table and how to make it there.</summary>
internal sealed record Activation(int Index, Func<RequestServices, object> Create);

/// <summary>
/// One request's instances of the types <see cref="ScopedActivators"/> gave a place: a dependency resolved from the
/// request's scope on first use, a handler made by its activation on first use. Held by the request's scoped dispatcher.
/// </summary>
internal sealed class RequestServices(ScopedActivators activators, IServiceProvider provider)
{
    private object?[] values = new object?[activators.Types.Length];

    public IServiceProvider Provider => provider;

    /// <summary>The scope's instance of the dependency at <paramref name="index"/>.</summary>
    public object Dependency(int index)
    {
        var slots = Slots(index);
        return Volatile.Read(ref slots[index]) ?? Keep(slots, index, provider.GetService(activators.Types[index])
            ?? throw new InvalidOperationException($"No service for type {activators.Types[index]} has been registered."));
    }

    /// <summary>This request's instance of <paramref name="activation"/>'s type, made on first use.</summary>
    public object Get(Activation activation)
    {
        var slots = Slots(activation.Index);
        return Volatile.Read(ref slots[activation.Index]) ?? Keep(slots, activation.Index, activation.Create(this));
    }

    // The first instance kept wins, as in a scope, should two threads of one request race for it.
    private static object Keep(object?[] slots, int index, object created) =>
        Interlocked.CompareExchange(ref slots[index], created, null) ?? created;

    // A type given a place after this request began (an event indexed for the first time) widens the table.
    private object?[] Slots(int index)
    {
        var slots = Volatile.Read(ref values);
        if (index < slots.Length) return slots;
        var wider = new object?[activators.Types.Length];
        Array.Copy(slots, wider, slots.Length);
        return ReferenceEquals(Interlocked.CompareExchange(ref values, wider, slots), slots) ? wider : Slots(index);
    }
}
