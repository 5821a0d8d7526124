namespace Identity.Server.Hosting;

/// <summary>
/// The workstation garbage collector sizes its young generation from the CPU's last-level cache. A virtual machine that
/// shows its guest no cache sizes (Firecracker does) leaves it at the runtime's 6 MB ceiling, and in practice near
/// 2.5 MB: under load that was 20–40 gen1 collections a second, with the server paused 6–13 % of the time
/// (docs/performance.md). Only the environment can raise the budget (<c>DOTNET_GCgen0size</c> is read before any of our
/// code runs), so the server says so at start when it runs on such a budget. The container image sets it.
/// </summary>
internal static class CollectorBudget
{
    public const string Variable = "DOTNET_GCgen0size";
    public const string Recommended = "0x1000000";

    /// <summary>Below this ceiling the budget was not derived from a cache size: 6 MB is the runtime's own.</summary>
    private const long Smallest = 8 * 1024 * 1024;

    /// <summary>The ceiling in bytes when it is the runtime's fallback and nobody chose it; otherwise null.</summary>
    public static long? FallbackCeiling(IReadOnlyDictionary<string, object> collector, Func<string, string?> environment)
    {
        if (collector.TryGetValue("ServerGC", out var server) && server is true) return null;
        if (environment(Variable) is not null || environment("COMPlus_GCgen0size") is not null) return null;
        return collector.TryGetValue("GCGen0MaxBudget", out var ceiling) && Convert.ToInt64(ceiling) is > 0 and < Smallest and var bytes
            ? bytes : null;
    }

    public static void AdviseOnCollectorBudget(this WebApplication app)
    {
        if (FallbackCeiling(GC.GetConfigurationVariables(), Environment.GetEnvironmentVariable) is { } ceiling)
            app.Logger.CollectorBudgetIsTheFallback(ceiling / (1024 * 1024), Variable, Recommended);
    }
}
