namespace Identity.Server.Tests.Infrastructure;

public static class RepositoryPaths
{
    /// <summary>The checkout's root: the nearest folder above the test binaries that holds Identity.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Identity.sln"))) return directory.FullName;
        throw new InvalidOperationException("Identity.sln not found above the test binaries.");
    }
}
