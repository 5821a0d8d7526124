using Identity.Server.Protocol.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Server.Tests.Protocol.Dispatch;

/// <summary>
/// Scoped handlers made without asking DI for them: only where DI would build them from a constructor, with the
/// constructor DI picks, one instance per request, and every dependency the request scope's own.
/// </summary>
public sealed class ScopedActivatorsTests
{
    [Fact]
    public void ScopedHandler_IsMadeOncePerRequest_WithTheScopesDependencies_WithoutAskingDiForIt()
    {
        var services = new ServiceCollection().AddScoped<Dependency>().AddSingleton<Shared>().AddScoped<Handler>();
        var activators = new ScopedActivators(services);
        using var root = services.BuildServiceProvider();
        var activation = activators.For(typeof(Handler));
        Assert.NotNull(activation);
        Assert.Same(activation, activators.For(typeof(Handler)));

        using var scope = root.CreateScope();
        var counting = new CountingProvider(scope.ServiceProvider);
        var request = new RequestServices(activators, counting);
        var first = Assert.IsType<Handler>(new ServiceSlot(typeof(Handler), ServiceLifetime.Scoped, activation: activation).Resolve<Handler>(request));
        var again = new ServiceSlot(typeof(Handler), ServiceLifetime.Scoped, activation: activation).Resolve<Handler>(request);

        Assert.Same(first, again);
        Assert.Same(scope.ServiceProvider.GetRequiredService<Dependency>(), first.Dependency);
        Assert.Same(root.GetRequiredService<Shared>(), first.Shared);
        Assert.DoesNotContain(typeof(Handler), counting.Asked);

        using var next = root.CreateScope();
        var other = (Handler)new RequestServices(activators, next.ServiceProvider).Get(activation);
        Assert.NotSame(first, other);
        Assert.Same(next.ServiceProvider.GetRequiredService<Dependency>(), other.Dependency);
    }

    [Fact]
    public void LongestConstructor_IsTheOneUsed_AsDiWould()
    {
        var services = new ServiceCollection().AddScoped<Dependency>().AddScoped<TwoConstructors>();
        var activators = new ScopedActivators(services);
        using var root = services.BuildServiceProvider();
        using var scope = root.CreateScope();

        var made = (TwoConstructors)new RequestServices(activators, scope.ServiceProvider).Get(activators.For(typeof(TwoConstructors))!);

        Assert.Same(scope.ServiceProvider.GetRequiredService<Dependency>(), made.Dependency);
    }

    [Fact]
    public void OpenGenericSingletonAndTheProvider_AreGivenAsDiWould()
    {
        var services = new ServiceCollection().AddLogging().AddScoped<LoggingHandler>();
        var activators = new ScopedActivators(services);
        using var root = services.BuildServiceProvider();
        using var scope = root.CreateScope();

        var made = (LoggingHandler)new RequestServices(activators, scope.ServiceProvider).Get(activators.For(typeof(LoggingHandler))!);

        Assert.Same(root.GetRequiredService<ILogger<LoggingHandler>>(), made.Logger);
        Assert.Same(scope.ServiceProvider, made.Provider);
    }

    [Theory]
    [InlineData(typeof(NeedsTransient))]
    [InlineData(typeof(DisposableHandler))]
    [InlineData(typeof(NeedsKeyed))]
    [InlineData(typeof(HasDefault))]
    [InlineData(typeof(TwoLongestConstructors))]
    [InlineData(typeof(NeedsEnumerable))]
    public void AnythingDiDoesDifferently_StaysWithDi(Type handler)
    {
        var services = new ServiceCollection().AddTransient<Transient>().AddScoped<Dependency>().AddKeyedScoped<Dependency>("key");
        services.AddScoped(handler);

        Assert.Null(new ScopedActivators(services).For(handler));
    }

    [Fact]
    public void SingletonFactoryAndUnregisteredServices_StayWithDi()
    {
        var services = new ServiceCollection().AddScoped<Dependency>().AddSingleton<Handler>().AddScoped(_ => new TwoConstructors());
        var activators = new ScopedActivators(services);

        Assert.Null(activators.For(typeof(Handler)));
        Assert.Null(activators.For(typeof(TwoConstructors)));
        Assert.Null(activators.For(typeof(LoggingHandler)));
    }

    [Fact]
    public void TypeGivenAPlaceAfterARequestBegan_WidensItsTable()
    {
        var services = new ServiceCollection().AddScoped<Dependency>().AddSingleton<Shared>().AddScoped<Handler>().AddScoped<TwoConstructors>();
        var activators = new ScopedActivators(services);
        using var root = services.BuildServiceProvider();
        using var scope = root.CreateScope();
        var request = new RequestServices(activators, scope.ServiceProvider);

        var handler = (Handler)request.Get(activators.For(typeof(Handler))!);
        var later = (TwoConstructors)request.Get(activators.For(typeof(TwoConstructors))!);

        Assert.Same(handler.Dependency, later.Dependency);
        Assert.Same(handler, request.Get(activators.For(typeof(Handler))!));
    }

    private sealed class CountingProvider(IServiceProvider inner) : IServiceProvider
    {
        public List<Type> Asked { get; } = [];

        public object? GetService(Type serviceType)
        {
            Asked.Add(serviceType);
            return inner.GetService(serviceType);
        }
    }

    public sealed class Dependency;

    public sealed class Shared;

    public sealed class Transient;

    public sealed class Handler(Dependency dependency, Shared shared)
    {
        public Dependency Dependency => dependency;
        public Shared Shared => shared;
    }

    public sealed class TwoConstructors
    {
        public TwoConstructors() { }
        public TwoConstructors(Dependency dependency) => Dependency = dependency;
        public Dependency? Dependency { get; }
    }

    public sealed class LoggingHandler(ILogger<LoggingHandler> logger, IServiceProvider provider)
    {
        public ILogger Logger => logger;
        public IServiceProvider Provider => provider;
    }

    public sealed class NeedsTransient(Transient transient)
    {
        public Transient Transient => transient;
    }

    public sealed class DisposableHandler(Dependency dependency) : IDisposable
    {
        public Dependency Dependency => dependency;
        public void Dispose() { }
    }

    public sealed class NeedsKeyed([FromKeyedServices("key")] Dependency dependency)
    {
        public Dependency Dependency => dependency;
    }

    public sealed class HasDefault(Dependency? dependency = null)
    {
        public Dependency? Dependency => dependency;
    }

    public sealed class TwoLongestConstructors
    {
        public TwoLongestConstructors(Dependency dependency) => Made = dependency;
        public TwoLongestConstructors(Transient transient) => Made = transient;
        public object Made { get; }
    }

    public sealed class NeedsEnumerable(IEnumerable<Dependency> dependencies)
    {
        public IEnumerable<Dependency> Dependencies => dependencies;
    }
}
