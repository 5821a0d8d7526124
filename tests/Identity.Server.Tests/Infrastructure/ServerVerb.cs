using System.Diagnostics;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>A CLI verb of the server (<c>migrate</c>, <c>remove-client</c>…), run as operators run it: a process of its own.</summary>
public static class ServerVerb
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string provider, string connectionString, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["Database__Provider"] = provider;
        start.Environment["ConnectionStrings__Identity"] = connectionString;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
