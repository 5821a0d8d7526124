using Identity.Server.Protocol.Dispatch;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Protocol.Dispatch;

/// <summary>The dispatchers' slots: a singleton resolved once and handed out as asked, anything else resolved anew.</summary>
public sealed class ServiceSlotTests
{
    [Fact]
    public void Singleton_IsResolvedOnce_AndHandedOutAsTheInterface()
    {
        var (provider, resolutions) = Provider(s => s.AddSingleton<Handler>());
        var slot = new ServiceSlot(typeof(Handler), ServiceLifetime.Singleton);

        var first = slot.Resolve<IHandler>(Request(provider));
        var second = slot.Resolve<IHandler>(Request(provider));

        Assert.IsType<Handler>(first);
        Assert.Same(first, second);
        Assert.Equal(1, resolutions());
    }

    [Fact]
    public void Transient_IsResolvedEachTime()
    {
        var (provider, resolutions) = Provider(s => s.AddTransient<Handler>());
        var slot = new ServiceSlot(typeof(Handler), ServiceLifetime.Transient);

        var first = slot.Resolve<IHandler>(Request(provider));
        var second = slot.Resolve<IHandler>(Request(provider));

        Assert.IsType<Handler>(first);
        Assert.IsType<Handler>(second);
        Assert.NotSame(first, second);
        Assert.Equal(2, resolutions());
    }

    [Fact]
    public void ServiceThatIsNotWhatIsAsked_IsNeverHandedOut()
    {
        var (provider, _) = Provider(s => s.AddSingleton<Handler>());
        var slot = new ServiceSlot(typeof(Handler), ServiceLifetime.Singleton);

        Assert.Null(slot.Resolve<IOtherHandler>(Request(provider)));
        Assert.Null(slot.Resolve<IOtherHandler>(Request(provider)));
    }

    [Fact]
    public void RegisteredInstance_IsHandedOutWithoutTheProvider()
    {
        var (provider, resolutions) = Provider(_ => { });
        var instance = new Handler();
        var slot = new ServiceSlot(typeof(Handler), ServiceLifetime.Singleton, instance);

        Assert.Same(instance, slot.Resolve<IHandler>(Request(provider)));
        Assert.Same(instance, slot.Resolve<IHandler>(Request(provider)));
        Assert.Equal(0, resolutions());
    }

    private static RequestServices Request(IServiceProvider provider) => new(new ScopedActivators(new ServiceCollection()), provider);

    private static (IServiceProvider Provider, Func<int> Resolutions) Provider(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        register(services);
        var counting = new CountingProvider(services.BuildServiceProvider());
        return (counting, () => counting.Resolutions);
    }

    private sealed class CountingProvider(IServiceProvider inner) : IServiceProvider
    {
        public int Resolutions { get; private set; }

        public object? GetService(Type serviceType)
        {
            Resolutions++;
            return inner.GetService(serviceType);
        }
    }

    public interface IHandler;

    public interface IOtherHandler;

    public sealed class Handler : IHandler;
}
