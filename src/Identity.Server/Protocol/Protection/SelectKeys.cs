using Identity.Server.Protocol.Keys;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Protection;

/// <summary>
/// Signs and encrypts with the ring's active keys by token type, whatever order OpenIddict's credential lists end up
/// in: id_tokens in RS256 (what OIDC clients expect unless they registered otherwise), everything else in the
/// configured algorithm; what is sealed for this server alone (refresh tokens, codes) encrypted and signed with the
/// keys derived from the active symmetric key (<see cref="SealEncryptionKey"/>, <see cref="SealSigningKey"/>).
/// </summary>
internal sealed class SelectKeys(KeyRing ring, IOptions<TokenOptions> options) : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<SelectKeys>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachSecurityCredentials.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        var keys = ring.Current ?? throw new InvalidOperationException("No keys loaded.");
        if (context.EncryptionCredentials is not null)
        {
            context.EncryptionCredentials = keys.ActiveSealEncryption;
            context.SigningCredentials = keys.ActiveSealSigning;
            return ValueTask.CompletedTask;
        }
        context.SigningCredentials = keys.SigningFor(context.TokenType == TokenTypeIdentifiers.IdentityToken
            ? SecurityAlgorithms.RsaSha256 : options.Value.SigningAlgorithm);
        return ValueTask.CompletedTask;
    }
}
