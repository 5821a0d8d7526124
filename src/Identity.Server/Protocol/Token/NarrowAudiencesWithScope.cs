using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Token.Rotation;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// A refresh that asks for a narrower scope gets an access token for the resources of that scope alone (RFC 9700 §2.3:
/// audience-restricted; RFC 9068 §3). OpenIddict narrows the access token's scopes but gives it every resource of the
/// refresh token, so a token for api.read alone was still accepted by api2 and by this server's account API. The
/// refresh token keeps its scopes and resources (RFC 6749 §6), so a later refresh may ask for more again.
/// </summary>
internal sealed class NarrowAudiencesWithScope(ScopeCatalog catalog, IssuerUri issuer) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireAccessTokenGenerated>()
            .AddFilter<RequireRefreshTokenGrant>()
            .UseSingletonHandler<NarrowAudiencesWithScope>()
            .SetOrder(OpenIddictServerHandlers.PrepareAccessTokenPrincipal.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (string.IsNullOrEmpty(context.Request.Scope) || context.AccessTokenPrincipal is not { } token) return default;
        var narrowed = catalog.AudiencesOf(token.GetScopes().ToHashSet(StringComparer.Ordinal), issuer.Value);
        token.SetAudiences(token.GetAudiences().Intersect(narrowed, StringComparer.Ordinal));
        return default;
    }
}
