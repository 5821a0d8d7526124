using System.Diagnostics;
using System.Text.Json;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// The built server refusing its configuration, as an operator sees it: the reason once, in the log's format, and exit
/// code 1. It was an unhandled exception: exit 134 (SIGABRT, a core dump where enabled) and a stack trace in plain text,
/// even where the log is JSON lines.
/// </summary>
public sealed class StartUpRefusalTests : IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("identity-refusal");

    public void Dispose() => work.Delete(recursive: true);

    [Theory]
    // A validator's failures, two at once: each named once.
    [InlineData("Identity__Tokens__AccessTokenLifetime=2.00:00:00", "Identity:Tokens:AccessTokenLifetime",
        "Identity__Tokens__IdTokenLifetime=2.00:00:00", "Identity:Tokens:IdTokenLifetime")]
    // A value the binder cannot convert.
    [InlineData("Identity__Tokens__AccessTokenLifetime=forever", "Identity:Tokens:AccessTokenLifetime", "", "")]
    // Refused at registration, before the host is built.
    [InlineData("DataProtection__AllowUnprotectedKeys=false", "DataProtection:Certificate:Path", "", "")]
    // The provider's own words named no key.
    [InlineData("Database__Provider=Postgres", "ConnectionStrings:Identity", "", "")]
    [InlineData("ConnectionStrings__Identity=Foo=bar", "ConnectionStrings:Identity", "", "")]
    // Read when the pipeline was built: an abort, after the migrations and the key ring had run.
    [InlineData("ForwardedHeaders__KnownProxies__0=not-an-ip", "ForwardedHeaders:KnownProxies:0", "", "")]
    [InlineData("ForwardedHeaders__KnownNetworks__0=10.0.0.0/99", "ForwardedHeaders:KnownNetworks:0", "", "")]
    public async Task RefusedConfiguration_ExitsWithItsReasons_AsLogLines(string setting, string key, string other, string otherKey)
    {
        var (exitCode, output, errors) = await RunAsync(setting, other);

        Assert.True(exitCode == 1, $"exit code {exitCode}\n{output}{errors}");
        Assert.DoesNotContain("Unhandled exception", output + errors);
        Assert.DoesNotContain("   at ", output + errors); // no stack trace
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var line in lines) JsonDocument.Parse(line); // Production logs JSON lines, the refusal too
        Assert.Single(lines, l => l.Contains(key));
        if (otherKey.Length > 0) Assert.Single(lines, l => l.Contains(otherKey));
        Assert.Empty(work.GetFiles()); // refused before the database: no identity.db
    }

    [Fact]
    public async Task ADatabaseThatDoesNotAnswerAtStartUp_ExitsWithOneLogLine_NotAnAbort()
    {
        // Migrating at start-up needs the database; the orchestrator starts the process again. This was an unhandled
        // exception too, after the host was built: exit 134 and a plain-text stack trace.
        var (exitCode, output, errors) = await RunAsync("Database__Provider=Postgres", "Identity__Issuer=https://id.example.test/",
            "ConnectionStrings__Identity=Host=127.0.0.1;Port=1;Username=identity;Password=unused;Database=identity;Timeout=3");

        Assert.True(exitCode == 1, $"exit code {exitCode}\n{output}{errors}");
        Assert.DoesNotContain("Unhandled exception", output + errors);
        Assert.DoesNotContain("   at ", output + errors);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var line in lines) JsonDocument.Parse(line);
        Assert.Single(lines, l => l.Contains("Start-up failed: the database did not answer"));
    }

    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] settings)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = work.FullName, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var key in start.Environment.Keys.Where(k => k.Contains("__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_")).ToList())
            start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DataProtection__AllowUnprotectedKeys"] = "true";
        foreach (var setting in settings.Where(s => s.Length > 0))
        {
            var (name, value) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await output, await errors);
    }
}
