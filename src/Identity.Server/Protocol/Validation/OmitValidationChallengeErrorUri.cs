using OpenIddict.Validation;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// The account API's Bearer challenges without OpenIddict's <c>error_uri</c>, as the server's own (see
/// <see cref="Transport.OmitErrorUri{TContext}"/>): <c>WWW-Authenticate: Bearer error="…", error_description="…"</c> (SPEC §2).
/// </summary>
internal sealed class OmitValidationChallengeErrorUri : IOpenIddictValidationHandler<ProcessChallengeContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessChallengeContext>()
            .UseSingletonHandler<OmitValidationChallengeErrorUri>()
            .SetOrder(OpenIddictValidationHandlers.AttachDefaultChallengeError.Descriptor.Order + 500)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessChallengeContext context)
    {
        context.Response.ErrorUri = null;
        return default;
    }
}
