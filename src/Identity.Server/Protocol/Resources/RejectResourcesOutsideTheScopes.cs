using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Token;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Resources;

/// <summary>
/// RFC 8707 §2 at the authorization and pushed authorization endpoints: each <c>resource</c> must be one of the
/// audiences the requested scopes reach (an API scope's <c>Resources</c>, this server for the OpenID Connect scopes),
/// or the request is <c>invalid_target</c>; the tokens are then for those resources alone
/// (<see cref="Authorization.AuthorizationEndpoint"/>). In place of OpenIddict's ValidateResources, which compares with
/// a global list we do not keep (so every resource was refused, and clients that always send one, as MCP clients
/// must, could not sign in), and of its ValidateResourcePermissions, which wants per-client <c>rsrc:</c> permissions.
/// </summary>
internal sealed class RejectResourcesOutsideTheScopes<TContext>(ScopeCatalog catalog, IssuerUri issuer) : IOpenIddictServerHandler<TContext>
    where TContext : BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor BuiltIn { get; } = typeof(TContext) == typeof(ValidateAuthorizationRequestContext)
        ? OpenIddictServerHandlers.Authentication.ValidateResources.Descriptor
        : OpenIddictServerHandlers.Authentication.ValidatePushedResources.Descriptor;

    public static OpenIddictServerHandlerDescriptor BuiltInPermissions { get; } = typeof(TContext) == typeof(ValidateAuthorizationRequestContext)
        ? OpenIddictServerHandlers.Authentication.ValidateResourcePermissions.Descriptor
        : OpenIddictServerHandlers.Authentication.ValidatePushedResourcePermissions.Descriptor;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RejectResourcesOutsideTheScopes<TContext>>()
            .SetOrder(BuiltIn.Order) // declared first: static properties are initialised in order
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        if (context.Transaction.Request is not { } request || request.GetResources() is not { Length: > 0 } resources) return default;
        var reach = catalog.AudiencesOf(request.GetScopes().ToHashSet(StringComparer.Ordinal), issuer.Value);
        if (RequestedResources.Outside(resources, reach) is { } outside)
            context.Reject(Errors.InvalidTarget, RequestedResources.NotReached(outside));
        return default;
    }
}
