using Identity.Server.Hosting;

namespace Identity.Server.Tests.Hosting;

/// <summary>The start-up advice on a young generation held to the runtime's fallback ceiling.</summary>
public sealed class CollectorBudgetTests
{
    private const long Fallback = 6 * 1024 * 1024;

    [Fact]
    public void WorkstationCollectorOnTheFallbackCeiling_IsReported()
    {
        Assert.Equal(Fallback, CollectorBudget.FallbackCeiling(Collector(server: false, ceiling: Fallback), NoEnvironment));
    }

    [Fact]
    public void CeilingFromACacheSize_OrChosen_OrServerCollector_IsNot()
    {
        Assert.Null(CollectorBudget.FallbackCeiling(Collector(server: false, ceiling: 16L * 1024 * 1024), NoEnvironment));
        Assert.Null(CollectorBudget.FallbackCeiling(Collector(server: true, ceiling: Fallback), NoEnvironment));
        Assert.Null(CollectorBudget.FallbackCeiling(Collector(server: false, ceiling: Fallback),
            name => name == CollectorBudget.Variable ? "0x400000" : null));
        Assert.Null(CollectorBudget.FallbackCeiling(new Dictionary<string, object> { ["ServerGC"] = false }, NoEnvironment));
    }

    [Fact]
    public void RecommendedValue_IsAboveTheFallback_AndWhatTheImageSets()
    {
        Assert.True(Convert.ToInt64(CollectorBudget.Recommended, 16) > Fallback);
        var dockerfile = File.ReadAllText(Path.Combine(RepositoryRoot(), "Dockerfile"));
        Assert.Contains($"{CollectorBudget.Variable}={CollectorBudget.Recommended}", dockerfile);
    }

    private static string? NoEnvironment(string name) => null;

    private static Dictionary<string, object> Collector(bool server, long ceiling) =>
        new() { ["ServerGC"] = server, ["GCGen0MaxBudget"] = ceiling };

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dockerfile"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("No Dockerfile above the test assembly.");
    }
}
