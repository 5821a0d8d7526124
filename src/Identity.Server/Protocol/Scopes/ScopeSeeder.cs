using Identity.Server.Protocol.Storage;
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
            await SeedUpsert.RunAsync(() => manager.FindByNameAsync(scope.Name, ct),
                existing => manager.UpdateAsync(existing, descriptor, ct), () => manager.CreateAsync(descriptor, ct));
        }
    }
}
