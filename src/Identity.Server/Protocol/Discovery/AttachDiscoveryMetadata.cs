using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Discovery;

/// <summary>
/// SPEC §2's discovery document where OpenIddict's differs: public clients authenticate at the token and revocation
/// endpoints with <c>none</c> (their client_id alone), which OpenIddict supports but does not advertise.
/// </summary>
internal sealed class AttachDiscoveryMetadata : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AttachDiscoveryMetadata>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachClientAuthenticationMethods.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        context.TokenEndpointAuthenticationMethods.Add(ClientAuthenticationMethods.None);
        context.RevocationEndpointAuthenticationMethods.Add(ClientAuthenticationMethods.None);
        return ValueTask.CompletedTask;
    }
}
