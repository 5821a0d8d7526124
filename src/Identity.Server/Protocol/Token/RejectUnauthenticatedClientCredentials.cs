using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// A client_credentials request that names a client but proves nothing. OpenIddict's
/// Exchange.ValidateClientCredentialsParameters answers every such request invalid_request, before it knows the client.
/// A public client, or one not allowed the grant, is told unauthorized_client instead, as SPEC §2 says for any grant a
/// client may not use (RFC 6749 §4.4: this grant is for confidential clients only); a confidential client allowed the
/// grant that left out its secret, or an unknown client, is told invalid_client (RFC 6749 §5.2: "no client
/// authentication included", "unknown client"), as it would be for every other grant.
/// </summary>
internal sealed class RejectUnauthenticatedClientCredentials(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseScopedHandler<RejectUnauthenticatedClientCredentials>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateClientCredentialsParameters.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        var request = context.Request;
        if (!request.IsClientCredentialsGrantType() || string.IsNullOrEmpty(request.ClientId)
            || !string.IsNullOrEmpty(request.ClientSecret) || !string.IsNullOrEmpty(request.ClientAssertion)
            || !string.IsNullOrEmpty(request.ClientAssertionType))
            return;

        if (await applications.FindByClientIdAsync(request.ClientId, context.CancellationToken) is not { } application)
            context.Reject(Errors.InvalidClient, "The specified 'client_id' is invalid.");
        else if (await applications.HasClientTypeAsync(application, ClientTypes.Public, context.CancellationToken)
                 || !await applications.HasPermissionAsync(application, Permissions.GrantTypes.ClientCredentials, context.CancellationToken))
            context.Reject(Errors.UnauthorizedClient, RejectGrantTypesNotAllowed.NotAllowed);
        else
            context.Reject(Errors.InvalidClient, "Client authentication is required.");
    }
}
