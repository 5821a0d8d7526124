using System.Security.Claims;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Storage;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// A person's sign-in to a client is an ad-hoc OpenIddict authorization: every token issued from it points there, so
/// ending the sign-in (reuse of a rotated refresh token, revocation, a password change) revokes all of them at once.
/// A remembered consent is a permanent authorization, and is not a session.
/// </summary>
internal sealed class Sessions(IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications,
    ApplicationSnapshots snapshots, RowChanges rows)
{
    /// <summary>A new OIDC session id (<c>sid</c>).</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// Opens the authorization of a password sign-in. OpenIddict opens one by itself only when a refresh token is
    /// issued; a sign-in without offline_access is a session too, and its tokens must be told from a client's own.
    /// False when the client is gone: deleted by hand while this node still had it cached, or removed meanwhile.
    /// </summary>
    public async Task<bool> OpenAsync(ClaimsPrincipal principal, string clientId, CancellationToken ct)
    {
        if (await applications.FindByClientIdAsync(clientId, ct) is not { } application) return false;
        object authorization;
        try
        {
            authorization = await authorizations.CreateAsync(principal, principal.GetClaim(Claims.Subject)!,
                (await applications.GetIdAsync(application, ct))!, AuthorizationTypes.AdHoc, principal.GetScopes(), ct);
        }
        catch (DbUpdateException refused) when (ForeignKeyViolation.Is(refused))
        {
            RefusedRows.Forget(refused);
            snapshots.Evict(clientId);
            return false;
        }
        principal.SetAuthorizationId(await authorizations.GetIdAsync(authorization, ct));
        return true;
    }

    /// <summary>Ends every sign-in of a person (but <paramref name="except"/>): their authorizations and all their tokens.</summary>
    public async Task EndAllAsync(string subject, string? except, CancellationToken ct)
    {
        var open = new List<(object Authorization, string Id)>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(subject, ct))
        {
            var id = (await authorizations.GetIdAsync(authorization, ct))!;
            if (id != except && await authorizations.HasTypeAsync(authorization, AuthorizationTypes.AdHoc, ct)
                && await authorizations.HasStatusAsync(authorization, Statuses.Valid, ct))
                open.Add((authorization, id));
        }
        foreach (var (authorization, id) in open) await RevokeAsync(authorization, id, ct);
        if (open.Count > 0) await rows.AwaitPeersAsync(ct);
    }

    /// <summary>Revokes one sign-in by its authorization's id, if it is there.</summary>
    public async Task EndAsync(string id, CancellationToken ct)
    {
        if (await authorizations.FindByIdAsync(id, ct) is { } authorization) await EndAsync(authorization, id, ct);
    }

    /// <summary>Revokes one sign-in: the authorization first, so that a token minted concurrently dies with it.</summary>
    public async Task EndAsync(object authorization, string id, CancellationToken ct)
    {
        await RevokeAsync(authorization, id, ct);
        // Answered once no node still serves one of its access tokens' entries from memory (AccessTokenEntries).
        await rows.AwaitPeersAsync(ct);
    }

    private async Task RevokeAsync(object authorization, string id, CancellationToken ct)
    {
        await authorizations.TryRevokeAsync(authorization, ct);
        await tokens.RevokeByAuthorizationIdAsync(id, ct);
    }
}
