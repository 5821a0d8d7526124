using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Discovery;

/// <summary>
/// OIDC Discovery §3: <c>id_token_signing_alg_values_supported</c> lists the algorithms ID tokens are signed with.
/// OpenIddict lists every signing key's, but ID tokens are RS256 whatever <c>Identity:Tokens:SigningAlgorithm</c> says
/// (<see cref="Protection.SelectKeys"/>), and no client can ask for another: with ES256 configured, a client that took
/// the document at its word and expected ES256 refused every ID token.
/// </summary>
internal sealed class AdvertiseIdTokensInRs256Only : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AdvertiseIdTokensInRs256Only>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachSigningAlgorithms.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        context.IdTokenSigningAlgorithms.Clear();
        context.IdTokenSigningAlgorithms.Add(SecurityAlgorithms.RsaSha256);
        return ValueTask.CompletedTask;
    }
}
