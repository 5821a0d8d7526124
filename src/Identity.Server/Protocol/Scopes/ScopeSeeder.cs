using Identity.Server.Persistence;
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
            catch (OpenIddictExceptions.ConcurrencyException)
            {
                // Another node updated the same scope at the same moment, from the same configuration.
            }
            catch (DbUpdateException exception) when (existing is null && UniqueViolation.Is(exception))
            {
                // Another node inserted the same scope between OpenIddict's check that the name is free and our
                // insert. The refused row must not ride along with the next scope.
                RefusedRows.Forget(exception);
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
