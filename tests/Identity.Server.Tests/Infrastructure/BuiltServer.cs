using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// The server's own build output run as a process of its own, as a user runs it (<c>dotnet Identity.Server.dll</c>),
/// in Development, with none of this process's ASP.NET Core or server settings: only the ones a test names.
/// </summary>
public sealed class BuiltServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly DirectoryInfo? ownFolder;
    private readonly StringBuilder output = new();

    private BuiltServer(Process process, int port, DirectoryInfo? ownFolder)
    {
        this.process = process;
        this.ownFolder = ownFolder;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public HttpClient Http { get; }

    /// <summary>What the process wrote so far, for a failing assertion's message.</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    /// <summary>The folder of the build these tests were built with (their own configuration).</summary>
    public static string BuildOutput()
    {
        var configuration = typeof(BuiltServer).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var folder = Path.Combine(RepositoryPaths.Root, "src", "Identity.Server", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(folder, "Identity.Server.dll")), $"no build at {folder}");
        return folder;
    }

    /// <summary>
    /// Starts <paramref name="dll"/> in <paramref name="workingDirectory"/>, or without one: then in a temporary folder of
    /// its own, deleted when it stops.
    /// </summary>
    public static BuiltServer Start(string dll, string? workingDirectory, int port, IReadOnlyDictionary<string, string>? settings = null)
    {
        var ownFolder = workingDirectory is null ? Directory.CreateTempSubdirectory("identity-built") : null;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [dll])
        {
            WorkingDirectory = workingDirectory ?? ownFolder!.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys.Where(IsServerSetting).ToList()) start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return new BuiltServer(Process.Start(start)!, port, ownFolder);
    }

    /// <summary>True once <c>/health/ready</c> answers 2xx; false if it has not within 30 s.</summary>
    public async Task<bool> BecomesReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                if ((await Http.GetAsync("/health/ready", attempt.Token)).IsSuccessStatusCode) return true;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        try { ownFolder?.Delete(recursive: true); }
        catch (IOException) { } // a file the stopped process still held: the temp folder's cleaner will have it
    }

    private static bool IsServerSetting(string key) =>
        key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
        || key.Contains("__", StringComparison.Ordinal);
}
