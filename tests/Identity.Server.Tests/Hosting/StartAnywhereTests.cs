using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// The built server as a new user starts it: <c>dotnet path/to/Identity.Server.dll</c> from some other folder, in
/// Development, with nothing else set. SPEC §5's Development defaults hold with no settings file at all (they are in
/// code), and the settings file beside the binary is read whatever the working directory.
/// </summary>
public sealed class StartAnywhereTests : IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("identity-anywhere");

    public void Dispose()
    {
        try { work.Delete(recursive: true); }
        catch (IOException) { } // a file the stopped process still held: the temp folder's cleaner will have it
    }

    [Fact]
    public async Task BuiltServer_StartedFromAnotherFolder_InDevelopment_AnswersDiscoveryOverHttp()
    {
        // A copy of the build output, with a settings file that declares one scope and no Development file at all.
        var app = Directory.CreateDirectory(Path.Combine(work.FullName, "app"));
        CopyDirectory(BuildOutput(), app.FullName);
        File.Delete(Path.Combine(app.FullName, "appsettings.Development.json"));
        File.WriteAllText(Path.Combine(app.FullName, "appsettings.json"), """{ "Identity": { "Scopes": [ { "Name": "from-settings-file" } ] } }""");
        var elsewhere = Directory.CreateDirectory(Path.Combine(work.FullName, "elsewhere"));
        var port = TestHosts.FreePort();

        using var server = Start(Path.Combine(app.FullName, "Identity.Server.dll"), elsewhere.FullName, port);
        var output = new System.Text.StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        server.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            Assert.True(await Eventually.TrueAsync(async () => await IsReadyAsync(http), 300, TimeSpan.FromMilliseconds(100)),
                $"the server did not become ready:\n{Output(output)}");

            var response = await http.GetAsync("/.well-known/openid-configuration");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // over plain HTTP: Identity:RequireHttps=false in Development
            var discovery = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("http://localhost:5000/", discovery.GetProperty("issuer").GetString());
            Assert.Contains("from-settings-file", discovery.GetProperty("scopes_supported").EnumerateArray().Select(s => s.GetString()));
            Assert.True(File.Exists(Path.Combine(elsewhere.FullName, "identity.db")), "the default SQLite file is relative to the working directory");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    private static async Task<bool> IsReadyAsync(HttpClient http)
    {
        try { return (await http.GetAsync("/health/ready")).IsSuccessStatusCode; }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) { return false; }
    }

    /// <summary>The server's own build output for the configuration these tests were built in.</summary>
    private static string BuildOutput()
    {
        var configuration = typeof(StartAnywhereTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var output = Path.Combine(RepositoryPaths.Root, "src", "Identity.Server", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(output, "Identity.Server.dll")), $"no build at {output}");
        return output;
    }

    private static Process Start(string dll, string workingDirectory, int port)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [dll])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Only what a new user would have: none of this process's ASP.NET Core or server settings.
        foreach (var key in start.Environment.Keys.Where(IsServerSetting).ToList()) start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        return Process.Start(start)!;
    }

    private static bool IsServerSetting(string key) =>
        key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
        || key.Contains("__", StringComparison.Ordinal);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    private static string Output(System.Text.StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
