using Microsoft.Extensions.Options;
using OpenIddict.Validation;

namespace Identity.Server.Protocol.Dispatch;

/// <summary>
/// OpenIddict's validation dispatcher on a <see cref="HandlerIndex"/>: the same handlers in the same order, each one's
/// filters checked just before it runs, and the same stops (a handled, skipped or rejected request ends the event).
/// </summary>
internal sealed class IndexedValidationDispatcher(HandlerIndex index, IOptionsMonitor<OpenIddictValidationOptions> options, IServiceProvider provider)
    : IOpenIddictValidationDispatcher
{
    private readonly RequestServices request = new(index.Activators, provider);

    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : OpenIddictValidationEvents.BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        var slots = index.For(typeof(TContext), options.CurrentValue.Handlers, d => d.ContextType, d => d.ServiceDescriptor, d => d.FilterTypes);
        foreach (var slot in slots)
        {
            if (!await IsActive(slot, context)) continue;
            if (slot.Resolve<IOpenIddictValidationHandler<TContext>>(request) is not { } handler)
                throw new InvalidOperationException($"The handler {((OpenIddictValidationHandlerDescriptor)slot.Descriptor).ServiceDescriptor.ServiceType} is not registered.");
            await handler.HandleAsync(context);
            if (context is OpenIddictValidationEvents.BaseRequestContext { IsRequestHandled: true } or OpenIddictValidationEvents.BaseRequestContext { IsRequestSkipped: true }
                or OpenIddictValidationEvents.BaseValidatingContext { IsRejected: true }) return;
        }
    }

    // OpenIddict's filters answer synchronously. Checked in a plain loop, a slot costs no async method of its own (each
    // one's start saves and restores the execution context, and an event walks dozens of slots); a filter that does
    // go async is awaited, with the ones after it, in IsActiveAsync.
    private ValueTask<bool> IsActive<TContext>(HandlerSlot slot, TContext context)
        where TContext : OpenIddictValidationEvents.BaseContext
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
        where TContext : OpenIddictValidationEvents.BaseContext
    {
        if (!await pending) return false;
        for (var i = next; i < filters.Length; i++)
            if (!await Filter<TContext>(filters[i]).IsActiveAsync(context)) return false;
        return true;
    }

    private IOpenIddictValidationHandlerFilter<TContext> Filter<TContext>(ServiceSlot slot) where TContext : OpenIddictValidationEvents.BaseContext =>
        slot.Resolve<IOpenIddictValidationHandlerFilter<TContext>>(request) ?? throw new InvalidOperationException($"The filter {slot.Type} is not registered.");
}
