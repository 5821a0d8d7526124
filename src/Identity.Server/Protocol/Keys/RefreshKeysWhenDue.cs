namespace Identity.Server.Protocol.Keys;

/// <summary>
/// Reloads the ring when something in it is due (a key activates or retires, the reload interval passed, another node
/// created keys) before OpenIddict takes its server and validation options for the request: a reload inside
/// OpenIddict's pipeline came too late for the request that made it, which was answered with the keys known to be stale
/// (a userinfo 401 for a token of the new key, a JWKS without the key just published, cached for an hour).
/// Until the keys were first read nothing is reloaded here; protocol requests are answered 503 (<see cref="RequireLoadedKeys"/>).
/// </summary>
internal sealed class RefreshKeysWhenDue(RequestDelegate next, KeyRing ring, KeyRingLoader loader)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (UsesKeys(http.Request.Path) && ring.Current is not null && loader.IsStale) await loader.GetAsync(http.RequestAborted);
        await next(http);
    }

    /// <summary>
    /// OpenIddict's endpoints, and the account API, whose access tokens OpenIddict's validation reads. Nothing else waits
    /// on a reload: with the database down a liveness probe would wait out the connection timeout, and the orchestrator
    /// restart a node that had only lost its database.
    /// </summary>
    private static bool UsesKeys(PathString path) =>
        path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/.well-known", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/account", StringComparison.OrdinalIgnoreCase);
}
