using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Persistence;

/// <summary>
/// The <c>prune</c> verb, run as cron runs it, on the embedded database. On a database not migrated yet it aborted with
/// "no such table" and a stack trace; every run logged EF Core's warning 10102 (a batch limited without an order) (audit
/// a14 F6).
/// </summary>
public sealed class PruneVerbTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("identity-prune");

    private string ConnectionString => $"Data Source={Path.Combine(directory.FullName, "identity.db")}";

    public void Dispose() => directory.Delete(recursive: true);

    [Fact]
    public async Task OnADatabaseNotMigrated_SaysToMigrateFirst_AndExits1WithoutAStackTrace()
    {
        var (exitCode, output) = await ServerVerb.RunAsync("Sqlite", ConnectionString, "prune");

        Assert.True(exitCode == 1, output);
        Assert.Contains("The database is not migrated", output);
        Assert.Contains("Run 'migrate' first.", output);
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain("no such table", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task OnAMigratedDatabase_PrunesAndExits0_WithoutWarnings()
    {
        var (migrated, migrateOutput) = await ServerVerb.RunAsync("Sqlite", ConnectionString, "migrate");
        Assert.True(migrated == 0, migrateOutput);

        var (exitCode, output) = await ServerVerb.RunAsync("Sqlite", ConnectionString, "prune");

        Assert.True(exitCode == 0, output);
        Assert.Contains("0 tokens, 0 authorizations, 0 other rows", output);
        Assert.DoesNotContain("10102", output);
        Assert.DoesNotContain("warn", output, StringComparison.OrdinalIgnoreCase);
    }
}
