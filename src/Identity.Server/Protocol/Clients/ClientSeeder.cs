using Identity.Server.Protocol.Storage;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// Creates or updates the clients declared in configuration through OpenIddict's application manager; idempotent, so
/// every node may run it at start.
/// </summary>
internal sealed class ClientSeeder(IOpenIddictApplicationManager applications, IOptions<List<ClientDefinition>> declared, ILogger<ClientSeeder> logger)
{
    public async Task SeedAsync(CancellationToken ct)
    {
        foreach (var definition in declared.Value) await UpsertAsync(definition, ct);
        if (declared.Value.Count > 0) logger.ClientsSeeded(declared.Value.Count);
    }

    public Task UpsertAsync(ClientDefinition definition, CancellationToken ct)
    {
        var descriptor = Describe(definition);
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
