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
            if (!await IsActiveAsync(slot, context)) continue;
            if (slot.Resolve<IOpenIddictValidationHandler<TContext>>(request) is not { } handler)
                throw new InvalidOperationException($"The handler {((OpenIddictValidationHandlerDescriptor)slot.Descriptor).ServiceDescriptor.ServiceType} is not registered.");
            await handler.HandleAsync(context);
            if (context is OpenIddictValidationEvents.BaseRequestContext { IsRequestHandled: true } or OpenIddictValidationEvents.BaseRequestContext { IsRequestSkipped: true }
                or OpenIddictValidationEvents.BaseValidatingContext { IsRejected: true }) return;
        }
    }

    private async ValueTask<bool> IsActiveAsync<TContext>(HandlerSlot slot, TContext context)
        where TContext : OpenIddictValidationEvents.BaseContext
    {
        foreach (var filterSlot in slot.Filters)
        {
            if (filterSlot.Resolve<IOpenIddictValidationHandlerFilter<TContext>>(request) is not { } filter)
                throw new InvalidOperationException($"The filter {filterSlot.Type} is not registered.");
            if (!await filter.IsActiveAsync(context)) return false;
        }
        return true;
    }
}
