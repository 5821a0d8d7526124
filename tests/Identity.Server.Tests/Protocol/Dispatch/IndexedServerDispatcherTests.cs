using Identity.Server.Protocol.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Tests.Protocol.Dispatch;

/// <summary>
/// The dispatcher runs a handler only when every one of its filters says so, whether a filter answers at once or
/// later, and checks the filters after one that answered later.
/// </summary>
public sealed class IndexedServerDispatcherTests
{
    [Fact]
    public async Task HandlerRuns_OnlyWhenEveryFilterAgrees_WhetherTheyAnswerAtOnceOrLater()
    {
        var ran = new List<string>();
        IServiceCollection services = new ServiceCollection();
        services.AddSingleton(ran);
        services.AddSingleton<Later<Yes>>().AddSingleton<Later<No>>().AddSingleton<AtOnce<Yes>>().AddSingleton<AtOnce<No>>();
        services.AddScoped<Note<A>>().AddScoped<Note<B>>().AddScoped<Note<C>>().AddScoped<Note<D>>().AddScoped<Note<E>>().AddScoped<Note<F>>();
        var handlers = new List<OpenIddictServerHandlerDescriptor>
        {
            Descriptor<Note<A>>(1).AddFilter<Later<Yes>>().AddFilter<AtOnce<Yes>>().Build(),
            Descriptor<Note<B>>(2).AddFilter<Later<No>>().AddFilter<AtOnce<Yes>>().Build(),
            Descriptor<Note<C>>(3).AddFilter<Later<Yes>>().AddFilter<AtOnce<No>>().Build(),
            Descriptor<Note<D>>(4).AddFilter<AtOnce<Yes>>().AddFilter<Later<Yes>>().AddFilter<Later<No>>().Build(),
            Descriptor<Note<E>>(5).AddFilter<AtOnce<Yes>>().AddFilter<Later<Yes>>().Build(),
            Descriptor<Note<F>>(6).AddFilter<AtOnce<No>>().AddFilter<AtOnce<Yes>>().Build(),
        };
        foreach (var handler in handlers) services.Add(handler.ServiceDescriptor);
        services.AddSingleton(new HandlerIndex(services));
        services.AddSingleton<IOptionsMonitor<OpenIddictServerOptions>>(new FixedOptions(new OpenIddictServerOptions(), handlers));
        services.AddScoped<IndexedServerDispatcher>();
        await using var root = services.BuildServiceProvider();
        await using var scope = root.CreateAsyncScope();

        await scope.ServiceProvider.GetRequiredService<IndexedServerDispatcher>()
            .DispatchAsync(new ProcessRequestContext(new OpenIddictServerTransaction()));

        Assert.Equal("A,E", string.Join(",", ran));
    }

    private static OpenIddictServerHandlerDescriptor.Builder<ProcessRequestContext> Descriptor<THandler>(int order)
        where THandler : class, IOpenIddictServerHandler<ProcessRequestContext> =>
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>().UseScopedHandler<THandler>().SetOrder(order);

    private sealed class FixedOptions(OpenIddictServerOptions options, List<OpenIddictServerHandlerDescriptor> handlers) : IOptionsMonitor<OpenIddictServerOptions>
    {
        private readonly OpenIddictServerOptions value = With(options, handlers);

        public OpenIddictServerOptions CurrentValue => value;

        public OpenIddictServerOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<OpenIddictServerOptions, string?> listener) => null;

        private static OpenIddictServerOptions With(OpenIddictServerOptions options, List<OpenIddictServerHandlerDescriptor> handlers)
        {
            options.Handlers.Clear();
            options.Handlers.AddRange(handlers);
            return options;
        }
    }

    public interface IAnswer { static abstract bool Value { get; } }

    public sealed class Yes : IAnswer { public static bool Value => true; }

    public sealed class No : IAnswer { public static bool Value => false; }

    public sealed class A;

    public sealed class B;

    public sealed class C;

    public sealed class D;

    public sealed class E;

    public sealed class F;

    public sealed class AtOnce<T> : IOpenIddictServerHandlerFilter<ProcessRequestContext> where T : IAnswer
    {
        public ValueTask<bool> IsActiveAsync(ProcessRequestContext context) => new(T.Value);
    }

    public sealed class Later<T> : IOpenIddictServerHandlerFilter<ProcessRequestContext> where T : IAnswer
    {
        public async ValueTask<bool> IsActiveAsync(ProcessRequestContext context)
        {
            await Task.Yield();
            return T.Value;
        }
    }

    public sealed class Note<T>(List<string> ran) : IOpenIddictServerHandler<ProcessRequestContext>
    {
        public ValueTask HandleAsync(ProcessRequestContext context)
        {
            ran.Add(typeof(T).Name);
            return ValueTask.CompletedTask;
        }
    }
}
