using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Protection;

/// <summary>
/// RFC 9068 §2.2 for access tokens: <c>jti</c> is the id of the token's row, so a resource server's "this jti" and the
/// server's revocation record are the same thing, and <c>nbf</c> is present. OpenIddict writes a random jti and no
/// nbf; this runs after its AttachTokenMetadata, which adds jti and would refuse a duplicate.
/// </summary>
internal sealed class AttachJwtIdAndNotBefore : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<AttachJwtIdAndNotBefore>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachTokenMetadata.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenType != TokenTypeIdentifiers.AccessToken) return ValueTask.CompletedTask;
        var descriptor = context.SecurityTokenDescriptor;
        if (context.Principal.GetTokenId() is { } id) descriptor.Claims[Claims.JwtId] = id;
        descriptor.NotBefore = descriptor.IssuedAt;
        return ValueTask.CompletedTask;
    }
}
