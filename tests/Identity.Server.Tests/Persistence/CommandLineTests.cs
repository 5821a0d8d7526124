using System.Diagnostics;
using Identity.Server.Persistence;

namespace Identity.Server.Tests.Persistence;

/// <summary>
/// What the command line asks for: a verb, the server (configuration only), the usage, or nothing that exists. An
/// unknown operand started the whole server: a cron job's <c>prnue</c> or an init container's <c>migrat</c> migrated,
/// seeded and then served for ever.
/// </summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("migrat")]
    [InlineData("remove-clinet", "x")]
    [InlineData("--urls=http://127.0.0.1:5000", "prnue")]
    [InlineData("--urls", "http://127.0.0.1:5000", "serve")]
    public void UnknownVerb_IsRefusedWithTheUsage(params string[] args)
    {
        var (exitCode, output, errors) = Ask(args);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("Unknown verb", errors);
        Assert.Contains("remove-client CLIENT_ID", errors);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--Identity:Issuer=https://id.example.test/", "--help")]
    public void Help_PrintsTheUsage(params string[] args)
    {
        var (exitCode, output, errors) = Ask(args);

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", output);
        Assert.Empty(errors);
    }

    [Theory]

    [InlineData("--urls=http://127.0.0.1:5000")]
    [InlineData("--urls", "http://127.0.0.1:5000")] // the value of --urls, not a verb
    [InlineData("/urls", "http://127.0.0.1:5000")]
    [InlineData("--Identity:Issuer", "https://id.example.test/", "Database:Provider=Postgres")]
    [InlineData("Identity:Issuer=https://id.example.test/")]
    [InlineData("migrate")]
    [InlineData("--environment", "Production", "prune")]
    [InlineData("remove-client", "spa", "--urls=http://127.0.0.1:5000")]
    public void ConfigurationAndVerbs_AreLeftToTheServer(params string[] args)
    {
        var (exitCode, output, errors) = Ask(args);

        Assert.Null(exitCode);
        Assert.Empty(output + errors);
    }

    [Fact]
    public async Task MistypedVerb_ExitsWithoutTouchingTheDatabase()
    {
        var work = Directory.CreateTempSubdirectory("identity-verb");
        try
        {
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = work.FullName, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
            start.ArgumentList.Add("migrat");
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true); // it served: the refusal is gone
            }

            Assert.Equal(2, process.ExitCode);
            Assert.Contains("Unknown verb 'migrat'", await errors);
            Assert.Empty(work.GetFiles()); // no identity.db: nothing migrated, nothing seeded
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static (int? ExitCode, string Output, string Errors) Ask(string[] args)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var exitCode = DatabaseCommands.RefusedOrHelp(args, output, errors);
        return (exitCode, output.ToString(), errors.ToString());
    }
}
