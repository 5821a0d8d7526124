using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// RFC 8628 §6.1: "the user code SHOULD be case insensitive". OpenIddict drops every character outside the code
/// alphabet before looking a code up, lower-case letters included; upper-casing the typed code first keeps them.
/// </summary>
internal sealed class AcceptUserCodesInAnyCase : IOpenIddictServerHandler<ExtractEndUserVerificationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractEndUserVerificationRequestContext>()
            .UseSingletonHandler<AcceptUserCodesInAnyCase>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractGetOrPostRequest<ExtractEndUserVerificationRequestContext>.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ExtractEndUserVerificationRequestContext context)
    {
        if (context.Request?.UserCode is { Length: > 0 } code) context.Request.UserCode = code.ToUpperInvariant();
        return ValueTask.CompletedTask;
    }
}
