using Identity.Server.Hosting;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Metrics;

/// <summary>
/// <c>identity.requests.refused</c>, by error code, for the token, revocation, introspection, pushed authorization and
/// device authorization endpoints: every error response they write (an introspection answered <c>{"active":false}</c>
/// is an answer, not a refusal).
/// </summary>
internal sealed class CountRefusals<TContext>(ServerMetrics metrics) : IOpenIddictServerHandler<TContext> where TContext : BaseRequestContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<CountRefusals<TContext>>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<TContext>.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        if (context.Transaction.Response?.Error is { Length: > 0 } error) metrics.RequestRefused(error);
        return ValueTask.CompletedTask;
    }
}
