using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Protection;

/// <summary>
/// An id_token is not revoked or introspected — it is a statement to the client, checked by its signature — so it
/// gets no row: one write less on every sign-in and refresh.
/// </summary>
internal sealed class SkipIdentityTokenEntries : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<SkipIdentityTokenEntries>()
            .SetOrder(OpenIddictServerHandlers.Protection.CreateTokenEntry.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenType == TokenTypeIdentifiers.IdentityToken) context.CreateTokenEntry = false;
        return ValueTask.CompletedTask;
    }
}
