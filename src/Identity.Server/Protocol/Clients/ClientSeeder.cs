using Identity.Server.Protocol.Storage;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// Creates or updates the clients declared in configuration through OpenIddict's application manager; idempotent, so
/// every node may run it at start. A client that configuration once declared and no longer does is not removed here: in a
/// rolling deployment a node of the older configuration may start after the newer one, and would remove (with all
/// their tokens) the clients the newer one added. It is named in the log instead, and <c>remove-client</c> removes it.
/// </summary>
internal sealed class ClientSeeder(IOpenIddictApplicationManager applications, IOptions<List<ClientDefinition>> declared, ILogger<ClientSeeder> logger)
{
    public async Task SeedAsync(CancellationToken ct)
    {
        foreach (var definition in declared.Value) await UpsertAsync(definition, ct, fromConfiguration: true);
        if (declared.Value.Count > 0) logger.ClientsSeeded(declared.Value.Count);
        foreach (var clientId in await UndeclaredAsync(ct)) logger.ClientNoLongerDeclared(clientId);
    }

    /// <summary>Clients created from configuration that configuration no longer declares: they still work.</summary>
    public async Task<IReadOnlyList<string>> UndeclaredAsync(CancellationToken ct)
    {
        var keep = declared.Value.Select(d => d.ClientId).ToHashSet(StringComparer.Ordinal);
        var undeclared = new List<string>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, ct))
            if (await applications.GetClientIdAsync(application, ct) is { } clientId && !keep.Contains(clientId)
                && (await applications.GetSettingsAsync(application, ct)).ContainsKey(ClientSettings.Declared))
                undeclared.Add(clientId);
        return undeclared;
    }

    /// <summary>
    /// The <c>remove-client</c> verb: OpenIddict deletes the client with its authorizations and tokens, so refresh tokens
    /// stop working and introspection calls its tokens inactive at once, and every node forgets its cached copy. A
    /// client still declared is refused: the next start would create it again.
    /// </summary>
    public async Task<string?> RemoveAsync(string clientId, CancellationToken ct)
    {
        if (declared.Value.Any(d => d.ClientId == clientId))
            return $"Client '{clientId}' is still declared in configuration (Identity:Clients); take it out there first, or the next start creates it again.";
        if (await applications.FindByClientIdAsync(clientId, ct) is not { } application) return $"There is no client '{clientId}'.";
        await applications.DeleteAsync(application, ct);
        logger.ClientRemoved(clientId);
        return null;
    }

    /// <summary>Creates or updates one client; <paramref name="fromConfiguration"/> marks it as configuration's to remove.</summary>
    public Task UpsertAsync(ClientDefinition definition, CancellationToken ct, bool fromConfiguration = false)
    {
        var descriptor = Describe(definition);
        if (fromConfiguration) descriptor.Settings[ClientSettings.Declared] = "true";
        return SeedUpsert.RunAsync(() => applications.FindByClientIdAsync(definition.ClientId, ct),
            existing => applications.UpdateAsync(existing, descriptor, ct), () => applications.CreateAsync(descriptor, ct));
    }

    internal static OpenIddictApplicationDescriptor Describe(ClientDefinition definition)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = definition.ClientId,
            ClientSecret = string.IsNullOrEmpty(definition.ClientSecret) ? null : definition.ClientSecret,
            ClientType = definition.IsPublic ? ClientTypes.Public : ClientTypes.Confidential,
            DisplayName = definition.DisplayName ?? definition.ClientId,
            ConsentType = definition.RequireConsent ? ConsentTypes.Explicit : ConsentTypes.Implicit,
        };
        if (!string.IsNullOrWhiteSpace(definition.JsonWebKeySet))
        {
            var (set, problem) = ClientKeySet.Parse(definition.JsonWebKeySet);
            descriptor.JsonWebKeySet = set ?? throw new InvalidOperationException($"Client {definition.ClientId}: JsonWebKeySet {problem}");
        }
        foreach (var uri in definition.RedirectUris) descriptor.RedirectUris.Add(new Uri(uri));
        foreach (var uri in definition.PostLogoutRedirectUris) descriptor.PostLogoutRedirectUris.Add(new Uri(uri));

        var grants = definition.AllowedGrantTypes;
        // Revocation is how every client signs out, so every client may revoke its own tokens.
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        if (grants.Length > 0) descriptor.Permissions.Add(Permissions.Endpoints.Token);
        if (definition.AllowIntrospection) descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        if (grants.Contains(GrantTypes.AuthorizationCode))
        {
            // RFC 9126: every client of the code flow may push its requests; RequirePushedAuthorizationRequests makes it the only way.
            descriptor.Permissions.UnionWith([Permissions.Endpoints.Authorization, Permissions.Endpoints.EndSession, Permissions.ResponseTypes.Code,
                Permissions.Endpoints.PushedAuthorization]);
        }
        if (definition.RequirePushedAuthorizationRequests) descriptor.Requirements.Add(Requirements.Features.PushedAuthorizationRequests);
        if (grants.Contains(GrantTypes.DeviceCode)) descriptor.Permissions.Add(Permissions.Endpoints.DeviceAuthorization);
        foreach (var grant in grants) descriptor.Permissions.Add(Permissions.Prefixes.GrantType + grant);
        foreach (var scope in definition.AllowedScopes) descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        // SPEC §2: public clients must prove possession of the code (RFC 7636; RFC 9700 §2.1.1).
        if (definition.IsPublic) descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        foreach (var (name, value) in ClientSettings.Of(definition)) descriptor.Settings[name] = value;
        return descriptor;
    }
}
