using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// Readiness (SPEC §2 "Operations"): the keys are loaded from the database, so this node can sign, verify and decrypt
/// tokens. Until then protocol requests answer 503. Degraded (still ready: the keys it has work) while a reload fails.
/// </summary>
internal sealed class KeysHealthCheck(KeyRing ring) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) => Task.FromResult(
        ring.Current is not { } keys ? HealthCheckResult.Unhealthy("The keys are not loaded yet.")
        : ring.ReloadProblem is { } problem
            ? HealthCheckResult.Degraded($"The keys could not be reloaded; the {keys.Signing.Count} signing key(s) loaded before stay in use: {problem}")
            : HealthCheckResult.Healthy($"{keys.Signing.Count} signing key(s), {keys.Encryption.Count} encryption key(s) loaded."));
}
