using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Clients;

/// <summary>Creates or updates the clients declared in configuration; idempotent, so every node may run it at start.</summary>
internal sealed class ClientSeeder(ServerDbContext db, IOptions<List<ClientDefinition>> declared, TimeProvider time, ILogger<ClientSeeder> logger)
{
    public async Task SeedAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var definition in declared.Value)
        {
            var client = await db.Clients.SingleOrDefaultAsync(c => c.ClientId == definition.ClientId, ct);
            if (client is null)
            {
                client = new Client { ClientId = definition.ClientId, CreatedAt = now };
                db.Clients.Add(client);
            }
            Apply(definition, client);
            client.UpdatedAt = now;
        }
        try
        {
            var changed = await db.SaveChangesAsync(ct);
            if (changed > 0) logger.ClientsSeeded(declared.Value.Count);
        }
        catch (DbUpdateException) when (declared.Value.Count > 0)
        {
            // Another node inserted the same client at the same moment; its values are the same configuration.
            db.ChangeTracker.Clear();
        }
    }

    internal static void Apply(ClientDefinition definition, Client client)
    {
        client.Type = string.Equals(definition.Type, "public", StringComparison.OrdinalIgnoreCase) ? ClientType.Public : ClientType.Confidential;
        client.SecretHash = string.IsNullOrEmpty(definition.ClientSecret) ? null : SecretHasher.Hash(definition.ClientSecret);
        client.DisplayName = definition.DisplayName ?? definition.ClientId;
        client.AllowedGrantTypes = definition.AllowedGrantTypes;
        client.AllowedScopes = definition.AllowedScopes;
        client.RedirectUris = definition.RedirectUris;
        client.PostLogoutRedirectUris = definition.PostLogoutRedirectUris;
        client.AllowedCorsOrigins = definition.AllowedCorsOrigins.Select(o => o.TrimEnd('/')).ToArray();
        client.AllowIntrospection = definition.AllowIntrospection;
        client.RequireConsent = definition.RequireConsent;
        client.AccessTokenFormat = string.Equals(definition.AccessTokenFormat, "reference", StringComparison.OrdinalIgnoreCase)
            ? AccessTokenFormat.Reference : AccessTokenFormat.Jwt;
        client.AccessTokenLifetime = definition.AccessTokenLifetime;
        client.RefreshTokenLifetime = definition.RefreshTokenLifetime;
    }
}
