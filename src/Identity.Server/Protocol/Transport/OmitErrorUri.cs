using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// SPEC §2: an error is <c>{"error","error_description"}</c> (and a Bearer challenge <c>error</c> and
/// <c>error_description</c>). OpenIddict adds an <c>error_uri</c> to every error it answers, a link to its own
/// documentation of its internal error number: not this server's documentation, and a needless sign of what it runs on.
/// RFC 6749 §5.2 makes the member optional. This drops it from errors raised while a request is validated
/// (<see cref="ProcessErrorContext"/>) and from the refusals our endpoints return (<see cref="ProcessChallengeContext"/>:
/// invalid_grant, login_required, a Bearer error), once OpenIddict has attached it.
/// </summary>
internal sealed class OmitErrorUri<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseRequestContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<OmitErrorUri<TContext>>()
            .SetOrder((typeof(TContext) == typeof(ProcessErrorContext)
                ? OpenIddictServerHandlers.AttachErrorParameters.Descriptor.Order
                : OpenIddictServerHandlers.AttachDefaultChallengeError.Descriptor.Order) + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        if (context.Transaction.Response is { } response) response.ErrorUri = null;
        return default;
    }
}
