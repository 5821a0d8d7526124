using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// SPEC §2: a client may use only the grants it is allowed, otherwise 400 unauthorized_client — whatever it presents
/// with the grant. OpenIddict checks the grant type's permission only after it has validated the presented refresh
/// token, code or device code, so a client not allowed refresh_token that sent an unusable refresh token was told
/// invalid_grant (and one with a usable token might be told about that token). This asks once the client is
/// authenticated, before any presented token is looked at. OpenIddict's own later check (Exchange.ValidateGrantTypePermissions)
/// stays: its grant-type test then always passes, and it still refuses offline_access to a client not allowed refresh_token.
/// </summary>
internal sealed class RejectGrantTypesNotAllowed(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    /// <summary>What a client is told about a grant it may not use, here and wherever else that is decided.</summary>
    public const string NotAllowed = "This client application is not allowed to use the specified grant type.";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireGrantTypePermissionsEnabled>()
            .UseScopedHandler<RejectGrantTypesNotAllowed>()
            // Once the client is authenticated (its secret, or its assertion), before the first presented token is validated.
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (string.IsNullOrEmpty(context.ClientId) || context.Request.GrantType is not { Length: > 0 } grantType) return;
        if (await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application) return;
        if (!await applications.HasPermissionAsync(application, Permissions.Prefixes.GrantType + grantType, context.CancellationToken))
            context.Reject(Errors.UnauthorizedClient, NotAllowed);
    }
}
