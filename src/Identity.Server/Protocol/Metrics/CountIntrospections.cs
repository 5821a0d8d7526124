using Identity.Server.Hosting;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Metrics;

/// <summary><c>identity.introspections</c>, active or not, for every introspection answered (refusals are counted as such).</summary>
internal sealed class CountIntrospections(ServerMetrics metrics) : IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
            .UseSingletonHandler<CountIntrospections>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyIntrospectionResponseContext>.Descriptor.Order - 250)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
    {
        if (string.IsNullOrEmpty(context.Response.Error)) metrics.Introspected((bool?)context.Response["active"] == true);
        return ValueTask.CompletedTask;
    }
}
