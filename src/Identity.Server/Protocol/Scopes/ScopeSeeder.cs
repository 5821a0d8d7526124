using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Scopes;

/// <summary>Creates or updates every known scope in OpenIddict's scope store, with its resources; idempotent.</summary>
internal sealed class ScopeSeeder(IOpenIddictScopeManager manager, ScopeCatalog catalog)
{
    public async Task SeedAsync(CancellationToken ct)
    {
        foreach (var scope in catalog.Definitions)
        {
            var descriptor = new OpenIddictScopeDescriptor { Name = scope.Name, DisplayName = scope.DisplayName ?? scope.Name };
            descriptor.Resources.UnionWith(scope.Resources);
            var existing = await manager.FindByNameAsync(scope.Name, ct);
            try
            {
                if (existing is not null)
                    await manager.UpdateAsync(existing, descriptor, ct);
                else
                    await manager.CreateAsync(descriptor, ct);
            }
            catch (Exception exception) when (exception is DbUpdateException or OpenIddictExceptions.ConcurrencyException)
            {
                // Another node wrote the same scope at the same moment, from the same configuration.
            }
            catch (OpenIddictExceptions.ValidationException) when (existing is null)
            {
                // OpenIddict checks that the name is free before inserting: another node's insert between that check
                // and the look above lands here. Any other validation failure stands. The manager asks the store again
                // (OpenIddict's entity cache, which would remember the miss, is off: ProtocolRegistration).
                if (await manager.FindByNameAsync(scope.Name, ct) is null) throw;
            }
        }
    }
}
