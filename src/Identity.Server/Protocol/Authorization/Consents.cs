using System.Collections.Immutable;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// Remembered consent: a permanent OpenIddict authorization of a person for a client, with the scopes granted. Clients
/// declared with RequireConsent=false (OpenIddict's implicit consent type) never ask.
/// </summary>
internal sealed class Consents(IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations, TimeProvider time)
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

    public async Task GrantAsync(string userId, string clientId, ImmutableArray<string> scopes, CancellationToken ct)
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
        await authorizations.CreateAsync(descriptor, ct);
    }

    private async Task<object> ApplicationAsync(string clientId, CancellationToken ct) =>
        await applications.FindByClientIdAsync(clientId, ct) ?? throw new InvalidOperationException($"Client {clientId} vanished.");
}
