using Identity.Server.Hosting;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Metrics;

/// <summary>
/// <c>identity.tokens.issued</c>, by grant type and client, once a token response is complete (a refresh retry inside the
/// leeway is answered from its first use and mints nothing, so it is not counted again).
/// </summary>
internal sealed class CountIssuedTokens(ServerMetrics metrics) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseSingletonHandler<CountIssuedTokens>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 750)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        metrics.TokenIssued(context.Request.GrantType!, context.ClientId!);
        return ValueTask.CompletedTask;
    }
}
