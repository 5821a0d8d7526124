using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// A refresh that asks for a narrower scope without openid gets no id_token (SPEC §2: an id_token "when openid was
/// granted", and the response's scope says it was not; OIDC Core §12.2 lets a refresh leave it out; node-oidc-provider
/// does the same). OpenIddict decides from the refresh token's scopes, which keep openid (RFC 6749 §6).
/// </summary>
internal sealed class SkipIdTokenOutsideRequestedScope : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<SkipIdTokenOutsideRequestedScope>()
            .SetOrder(OpenIddictServerHandlers.EvaluateGeneratedTokens.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.GenerateIdentityToken && context.Request.IsRefreshTokenGrantType()
            && !string.IsNullOrEmpty(context.Request.Scope) && !context.Request.HasScope(OpenIddictConstants.Scopes.OpenId))
            context.GenerateIdentityToken = context.IncludeIdentityToken = false;
        return default;
    }
}
