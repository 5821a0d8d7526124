using Identity.Server.Protocol.Clients;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Scopes;

/// <summary>
/// A scope outside the client's AllowedScopes is <c>invalid_scope</c> (RFC 6749 §5.2: "exceeds the scope granted"),
/// openid and offline_access included: in place of OpenIddict's ValidateScopePermissions, which answers
/// invalid_request and lets every client ask for those two (and of its ValidateGrantTypePermissions, which answers
/// invalid_request to offline_access without the refresh_token grant) — at the token and authorization endpoints, and likewise
/// at the pushed authorization (RFC 9126 §2.3: the authorization endpoint's errors) and device authorization (RFC 8628
/// §3.2: RFC 6749 §5.2's errors) endpoints.
/// </summary>
internal sealed class RejectScopesNotAllowed<TContext>(ClientScopes scopes) : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .UseScopedHandler<RejectScopesNotAllowed<TContext>>()
            // Before OpenIddict's grant-type permission check, not only its scope check: that one refuses offline_access to
            // a client without the refresh_token grant with invalid_request. After the client, its redirect URI and its
            // permission for the endpoint are known (and after RejectPersonalScopesForClients at the token endpoint).
            .SetOrder((typeof(TContext) switch
            {
                var t when t == typeof(ValidateTokenRequestContext) => OpenIddictServerHandlers.Exchange.ValidateGrantTypePermissions.Descriptor.Order,
                var t when t == typeof(ValidatePushedAuthorizationRequestContext) =>
                    OpenIddictServerHandlers.Authentication.ValidatePushedGrantTypePermissions.Descriptor.Order,
                var t when t == typeof(ValidateDeviceAuthorizationRequestContext) => OpenIddictServerHandlers.Device.ValidateGrantTypePermissions.Descriptor.Order,
                _ => OpenIddictServerHandlers.Authentication.ValidateGrantTypePermissions.Descriptor.Order,
            }) - 250)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(TContext context)
    {
        var request = context.Transaction.Request!;
        foreach (var scope in request.GetScopes())
        {
            if (await scopes.AllowsAsync(request.ClientId!, scope, context.CancellationToken)) continue;
            context.Reject(Errors.InvalidScope, $"The client is not allowed the '{(scope.Length <= 40 ? scope : scope[..40] + "...")}' scope.");
            return;
        }
    }
}
