using Identity.Server.Protocol.ClientAuthentication;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Discovery;

/// <summary>
/// SPEC §2's discovery document where OpenIddict's differs: public clients authenticate at the token, revocation,
/// device authorization and pushed authorization endpoints with <c>none</c> (their client_id alone), which OpenIddict
/// supports but does not advertise; and the algorithms a private_key_jwt assertion may be signed with (RFC 8414 §2
/// <c>*_endpoint_auth_signing_alg_values_supported</c>), which it leaves out.
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
        if (context.DeviceAuthorizationEndpoint is not null) context.DeviceAuthorizationEndpointAuthenticationMethods.Add(ClientAuthenticationMethods.None);
        if (context.PushedAuthorizationEndpoint is not null) context.PushedAuthorizationEndpointAuthenticationMethods.Add(ClientAuthenticationMethods.None);
        if (context.TokenEndpointAuthenticationMethods.Contains(ClientAuthenticationMethods.PrivateKeyJwt))
        {
            var algorithms = new OpenIddictParameter(System.Collections.Immutable.ImmutableArray.CreateRange<string?>(ClientAssertions.SigningAlgorithms));
            context.Metadata[Metadata.TokenEndpointAuthSigningAlgValuesSupported] = algorithms;
            context.Metadata[Metadata.RevocationEndpointAuthSigningAlgValuesSupported] = algorithms;
            context.Metadata[Metadata.IntrospectionEndpointAuthSigningAlgValuesSupported] = algorithms;
        }
        return ValueTask.CompletedTask;
    }
}
