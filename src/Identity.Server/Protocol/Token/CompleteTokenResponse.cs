using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// SPEC §2's token response where OpenIddict's AttachSignInParameters differs: the scope is always said (OpenIddict
/// omits it when it equals the requested one, which RFC 6749 §5.1 allows, but then a client that omitted scope could
/// not know what it got), and <c>expires_in</c> is the access token's lifetime (§5.1) as issued — OpenIddict counts
/// from the moment the response is built, a fraction of a second later, so 900 came out as 899. A token exchange's
/// access token is RFC 8693's "issued token" (§2.2.1: scope required when it differs from the request's), and gets
/// the same.
/// </summary>
internal sealed class CompleteTokenResponse : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<RequireAccessTokenInResponse>()
            .UseSingletonHandler<CompleteTokenResponse>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 250)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        var principal = context.AccessTokenPrincipal ?? context.IssuedTokenPrincipal!;
        context.Response.Scope = string.Join(' ', principal.GetScopes());
        if (principal.GetCreationDate() is { } issuedAt && principal.GetExpirationDate() is { } expiresAt)
            context.Response.ExpiresIn = (long)Math.Round((expiresAt - issuedAt).TotalSeconds);
        return ValueTask.CompletedTask;
    }
}

/// <summary>An access token is issued: by any grant, or as a token exchange's issued token.</summary>
internal sealed class RequireAccessTokenInResponse : IOpenIddictServerHandlerFilter<ProcessSignInContext>
{
    public ValueTask<bool> IsActiveAsync(ProcessSignInContext context) => ValueTask.FromResult(context.GenerateAccessToken
        || (context.GenerateIssuedToken && context.IssuedTokenType == OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.AccessToken));
}
