using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Clients;

/// <summary>The scopes a client may have: its <c>scp:</c> permissions, in the order they were declared.</summary>
internal sealed class ClientScopes(IOpenIddictApplicationManager applications)
{
    public async Task<IReadOnlyList<string>> AllowedAsync(string clientId, CancellationToken ct)
    {
        // Already loaded (and cached for the request) by OpenIddict's client authentication.
        var application = await applications.FindByClientIdAsync(clientId, ct) ?? throw new InvalidOperationException($"Client {clientId} vanished.");
        return (await applications.GetPermissionsAsync(application, ct))
            .Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(p => p[Permissions.Prefixes.Scope.Length..])
            .ToList();
    }

    public async Task<bool> AllowsAsync(string clientId, string scope, CancellationToken ct)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        return application is not null && await applications.HasPermissionAsync(application, Permissions.Prefixes.Scope + scope, ct);
    }
}
