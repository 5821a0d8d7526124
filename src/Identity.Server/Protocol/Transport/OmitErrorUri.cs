using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// SPEC §2: an error is <c>{"error","error_description"}</c> (and a Bearer challenge <c>error</c> and
/// <c>error_description</c>). OpenIddict adds an <c>error_uri</c> to every error it answers, a link to its own
/// documentation of its internal error number: not this server's documentation, and a needless sign of what it runs on.
/// RFC 6749 §5.2 makes the member optional. This drops it from errors raised while a request is validated…
/// </summary>
internal sealed class OmitErrorUri : IOpenIddictServerHandler<ProcessErrorContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
            .UseSingletonHandler<OmitErrorUri>()
            .SetOrder(OpenIddictServerHandlers.AttachErrorParameters.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessErrorContext context)
    {
        context.Response.ErrorUri = null;
        return default;
    }
}

/// <summary>…and from the refusals our endpoints return (a challenge: invalid_grant, login_required, a Bearer error).</summary>
internal sealed class OmitChallengeErrorUri : IOpenIddictServerHandler<ProcessChallengeContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessChallengeContext>()
            .UseSingletonHandler<OmitChallengeErrorUri>()
            .SetOrder(OpenIddictServerHandlers.AttachDefaultChallengeError.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessChallengeContext context)
    {
        context.Response.ErrorUri = null;
        return default;
    }
}
