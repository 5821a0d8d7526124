using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Scopes;

/// <summary>
/// A client acting for itself (client_credentials) has no person to know about or to keep signed in: openid, profile,
/// email, roles and offline_access are <c>invalid_scope</c> there (RFC 6749 §5.2), checked before OpenIddict's grant
/// permissions, which would call offline_access an invalid_request.
/// </summary>
internal sealed class RejectPersonalScopesForClients : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<RejectPersonalScopesForClients>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateGrantTypePermissions.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (!context.Request.IsClientCredentialsGrantType()) return ValueTask.CompletedTask;
        if (context.Request.GetScopes().FirstOrDefault(StandardScopes.All.Contains) is { } personal)
            context.Reject(Errors.InvalidScope, $"The '{personal}' scope is about a person; client_credentials has none.");
        return ValueTask.CompletedTask;
    }
}
