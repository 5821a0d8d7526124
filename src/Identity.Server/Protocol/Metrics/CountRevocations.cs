using Identity.Server.Hosting;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Metrics;

/// <summary>
/// <c>identity.tokens.revoked</c> by token type, when OpenIddict's RevokeToken revoked one (a token already revoked,
/// unknown or another client's is answered 200 and revokes nothing, so it is not counted).
/// </summary>
internal sealed class CountRevocations(ServerMetrics metrics) : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseSingletonHandler<CountRevocations>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order + 250)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        if (context.GenericTokenPrincipal is { } token)
            metrics.TokenRevoked(token.HasTokenType(TokenTypeIdentifiers.RefreshToken) ? TokenTypeHints.RefreshToken : TokenTypeHints.AccessToken);
        return ValueTask.CompletedTask;
    }
}
