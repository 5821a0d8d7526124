using System.Collections.Immutable;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// Remembered consent: a permanent OpenIddict authorization of a person for a client, with the scopes granted. Clients
/// declared with RequireConsent=false (OpenIddict's implicit consent type) never ask.
/// </summary>
internal sealed class Consents(IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations, TimeProvider time,
    ApplicationSnapshots snapshots)
{
    public async Task<bool> IsRequiredAsync(string userId, string clientId, ImmutableArray<string> scopes, CancellationToken ct)
    {
        var application = await ApplicationAsync(clientId, ct);
        if (await applications.HasConsentTypeAsync(application, ConsentTypes.Implicit, ct)) return false;
        var applicationId = (await applications.GetIdAsync(application, ct))!;
        await foreach (var _ in authorizations.FindAsync(userId, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, scopes, ct))
            return false;
        return true;
    }

    /// <summary>Remembers the consent; false when the client is gone (deleted while this node still had it cached).</summary>
    public async Task<bool> GrantAsync(string userId, string clientId, ImmutableArray<string> scopes, CancellationToken ct)
    {
        var application = await ApplicationAsync(clientId, ct);
        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = await applications.GetIdAsync(application, ct),
            Subject = userId,
            Type = AuthorizationTypes.Permanent,
            Status = Statuses.Valid,
            CreationDate = time.GetUtcNow(),
        };
        descriptor.Scopes.UnionWith(scopes);
        try
        {
            await authorizations.CreateAsync(descriptor, ct);
        }
        catch (DbUpdateException refused) when (ForeignKeyViolation.Is(refused))
        {
            RefusedRows.Forget(refused);
            snapshots.Evict(clientId);
            return false;
        }
        return true;
    }

    private async Task<object> ApplicationAsync(string clientId, CancellationToken ct) =>
        await applications.FindByClientIdAsync(clientId, ct) ?? throw new InvalidOperationException($"Client {clientId} vanished.");
}
