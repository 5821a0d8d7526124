using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// The scopes a client may have: its <c>scp:</c> permissions, in the order they were declared — offline_access only
/// with the refresh_token grant, the only thing that scope is for (a client declared with the scope and without the
/// grant would otherwise be granted it and get no refresh token, or be refused by OpenIddict with invalid_request).
/// </summary>
internal sealed class ClientScopes(IOpenIddictApplicationManager applications)
{
    public async Task<IReadOnlyList<string>> AllowedAsync(string clientId, CancellationToken ct)
    {
        // Already loaded (and cached for the request) by OpenIddict's client authentication.
        var application = await applications.FindByClientIdAsync(clientId, ct) ?? throw new InvalidOperationException($"Client {clientId} vanished.");
        var permissions = await applications.GetPermissionsAsync(application, ct);
        var refreshes = permissions.Contains(Permissions.GrantTypes.RefreshToken);
        return permissions
            .Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(p => p[Permissions.Prefixes.Scope.Length..])
            .Where(scope => refreshes || scope != OpenIddictConstants.Scopes.OfflineAccess)
            .ToList();
    }

    public async Task<bool> AllowsAsync(string clientId, string scope, CancellationToken ct)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        return application is not null && await applications.HasPermissionAsync(application, Permissions.Prefixes.Scope + scope, ct)
            && (scope != OpenIddictConstants.Scopes.OfflineAccess || await applications.HasPermissionAsync(application, Permissions.GrantTypes.RefreshToken, ct));
    }
}
