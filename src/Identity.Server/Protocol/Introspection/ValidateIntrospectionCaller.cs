using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Introspection;

/// <summary>
/// Who may learn about which token (SPEC §2, in place of OpenIddict's ValidateTokenType and ValidateAuthorizedParty):
/// any client allowed to introspect may describe any access token — that is what resource servers are for, whether or
/// not they are its audience — and a refresh token only to the client it was issued to (RFC 7662 §4). Every other
/// token type, and every refusal, is exactly <c>{"active":false}</c>: OpenIddict turns invalid_token into that.
/// </summary>
internal sealed class ValidateIntrospectionCaller : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
            .UseSingletonHandler<ValidateIntrospectionCaller>()
            .SetOrder(OpenIddictServerHandlers.Introspection.ValidateTokenType.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
    {
        var token = context.GenericTokenPrincipal!;
        if (token.HasTokenType(TokenTypeIdentifiers.AccessToken)) return ValueTask.CompletedTask;
        if (token.HasTokenType(TokenTypeIdentifiers.RefreshToken) && context.ClientId is { } caller && token.HasPresenter(caller))
            return ValueTask.CompletedTask;
        context.Reject(Errors.InvalidToken, "The token is not active for this client.");
        return ValueTask.CompletedTask;
    }
}
