using System.Net;
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
        CopyDirectory(BuiltServer.BuildOutput(), app.FullName);
        File.Delete(Path.Combine(app.FullName, "appsettings.Development.json"));
        File.WriteAllText(Path.Combine(app.FullName, "appsettings.json"), """{ "Identity": { "Scopes": [ { "Name": "from-settings-file" } ] } }""");
        var elsewhere = Directory.CreateDirectory(Path.Combine(work.FullName, "elsewhere"));
        var port = TestHosts.FreePort();

        try
        {
            await using var server = BuiltServer.Start(Path.Combine(app.FullName, "Identity.Server.dll"), elsewhere.FullName, port);
            Assert.True(await server.BecomesReadyAsync(), $"the server did not become ready:\n{server.Output}");

            var response = await server.Http.GetAsync("/.well-known/openid-configuration");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // over plain HTTP: Identity:RequireHttps=false in Development
            var discovery = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("http://localhost:5000/", discovery.GetProperty("issuer").GetString());
            Assert.Contains("from-settings-file", discovery.GetProperty("scopes_supported").EnumerateArray().Select(s => s.GetString()));
            Assert.True(File.Exists(Path.Combine(elsewhere.FullName, "identity.db")), "the default SQLite file is relative to the working directory");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
