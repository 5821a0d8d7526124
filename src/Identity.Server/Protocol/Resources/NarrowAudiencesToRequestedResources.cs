using Identity.Server.Protocol.Token;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Resources;

/// <summary>
/// RFC 8707 §2.2 at the token endpoint: the access token is for the <c>resource</c>s the request names, each one of the
/// audiences it would have had (its scopes' resources; for a code, what its authorization request settled), or the
/// request is <c>invalid_target</c>. A refresh token keeps all of its resources, so that a later refresh may name
/// another. A token exchange decides its audience itself (<see cref="TokenExchangeGrantHandler"/>).
/// </summary>
internal sealed class NarrowAudiencesToRequestedResources : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireAccessTokenGenerated>()
            .AddFilter<RequireNoTokenExchangeGrant>()
            .UseSingletonHandler<NarrowAudiencesToRequestedResources>()
            .SetOrder(NarrowAudiencesWithScope.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.Request.GetResources() is not { Length: > 0 } resources || context.AccessTokenPrincipal is not { } token) return default;
        var reach = token.GetAudiences();
        if (RequestedResources.Resolve(resources, reach) is { } audiences) token.SetAudiences(audiences);
        else context.Reject(Errors.InvalidTarget, RequestedResources.NotReached(RequestedResources.Outside(resources, reach)!));
        return default;
    }
}
