using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// A token request naming no client is 401 invalid_client (SPEC §2; RFC 6749 §5.2: "no client authentication
/// included"), for every grant: in place of OpenIddict's Exchange.ValidateClientIdParameter, which answers
/// invalid_request for the code, client_credentials and device grants.
/// </summary>
internal sealed class RequireClientIdentification : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<RequireClientIdentification>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateClientIdParameter.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (string.IsNullOrEmpty(context.Request.ClientId) && string.IsNullOrEmpty(context.Request.ClientAssertion))
            context.Reject(Errors.InvalidClient, "Client authentication is required.");
        return ValueTask.CompletedTask;
    }
}
