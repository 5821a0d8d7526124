using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// Logs every refusal decided in OpenIddict's request pipeline, by its handlers or ours (a wrong client secret, a
/// missing parameter, an expired bearer token): OpenIddict's own account of them comes at Information among three
/// lines for every request, which the server's defaults leave out (<c>Logging:LogLevel:OpenIddict</c> = Warning).
/// OpenIddict raises this event only for those: the refusals of our passthrough endpoints are challenges, logged where
/// they are decided (<see cref="Log.TokenRequestRejected"/>). The client id is as the caller sent it, so it is cut
/// short; the description is the one the caller receives, so it holds nothing the caller should not see.
/// </summary>
internal sealed class LogRefusals(ILogger<LogRefusals> logger) : IOpenIddictServerHandler<ProcessErrorContext>
{
    private const int ClientIdShown = 100;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
            .UseSingletonHandler<LogRefusals>()
            .SetOrder(OpenIddictServerHandlers.AttachErrorParameters.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessErrorContext context)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var clientId = context.Request?.ClientId is { Length: > 0 } sent ? sent : "(none)";
            if (clientId.Length > ClientIdShown) clientId = clientId[..ClientIdShown] + "…";
            logger.RequestRefused(context.EndpointType.ToString(), clientId, context.Error ?? "invalid_request", context.ErrorDescription);
        }
        return ValueTask.CompletedTask;
    }
}
