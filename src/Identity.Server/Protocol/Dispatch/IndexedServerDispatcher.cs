using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace Identity.Server.Protocol.Dispatch;

/// <summary>
/// OpenIddict's server dispatcher on a <see cref="HandlerIndex"/>: the same handlers in the same order, each one's
/// filters checked just before it runs, and the same stops (a handled, skipped or rejected request ends the event).
/// </summary>
internal sealed class IndexedServerDispatcher(HandlerIndex index, IOptionsMonitor<OpenIddictServerOptions> options, IServiceProvider provider)
    : IOpenIddictServerDispatcher
{
    private readonly RequestServices request = new(index.Activators, provider);

    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : OpenIddictServerEvents.BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        var slots = index.For(typeof(TContext), options.CurrentValue.Handlers, d => d.ContextType, d => d.ServiceDescriptor, d => d.FilterTypes);
        foreach (var slot in slots)
        {
            if (!await IsActive(slot, context)) continue;
            if (slot.Resolve<IOpenIddictServerHandler<TContext>>(request) is not { } handler)
                throw new InvalidOperationException($"The handler {((OpenIddictServerHandlerDescriptor)slot.Descriptor).ServiceDescriptor.ServiceType} is not registered.");
            await handler.HandleAsync(context);
            if (context is OpenIddictServerEvents.BaseRequestContext { IsRequestHandled: true } or OpenIddictServerEvents.BaseRequestContext { IsRequestSkipped: true }
                or OpenIddictServerEvents.BaseValidatingContext { IsRejected: true }) return;
        }
    }

    // OpenIddict's filters answer synchronously. Checked in a plain loop, a slot costs no async method of its own (each
    // one's start saves and restores the execution context, and an event walks dozens of slots); a filter that does
    // go async is awaited, with the ones after it, in IsActiveAsync.
    private ValueTask<bool> IsActive<TContext>(HandlerSlot slot, TContext context)
        where TContext : OpenIddictServerEvents.BaseContext
    {
        var filters = slot.Filters;
        for (var i = 0; i < filters.Length; i++)
        {
            var answer = Filter<TContext>(filters[i]).IsActiveAsync(context);
            if (!answer.IsCompletedSuccessfully) return IsActiveAsync(answer, filters, i + 1, context);
            if (!answer.Result) return new(false);
        }
        return new(true);
    }

    private async ValueTask<bool> IsActiveAsync<TContext>(ValueTask<bool> pending, ServiceSlot[] filters, int next, TContext context)
        where TContext : OpenIddictServerEvents.BaseContext
    {
        if (!await pending) return false;
        for (var i = next; i < filters.Length; i++)
            if (!await Filter<TContext>(filters[i]).IsActiveAsync(context)) return false;
        return true;
    }

    private IOpenIddictServerHandlerFilter<TContext> Filter<TContext>(ServiceSlot slot) where TContext : OpenIddictServerEvents.BaseContext =>
        slot.Resolve<IOpenIddictServerHandlerFilter<TContext>>(request) ?? throw new InvalidOperationException($"The filter {slot.Type} is not registered.");
}
