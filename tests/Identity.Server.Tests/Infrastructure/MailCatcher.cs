using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// A real SMTP server for the tests: maildev (pinned in tests/tools), read back over its HTTP API. Each instance is
/// its own process on its own ports, so a test can stop and start it to simulate an outage.
/// </summary>
public sealed class MailCatcher : IAsyncDisposable
{
    private readonly HttpClient api;
    private readonly IReadOnlyList<string> options;
    private Process? process;
    public int SmtpPort { get; }
    public int WebPort { get; }

    private MailCatcher(int smtpPort, int webPort, IReadOnlyList<string> options)
    {
        (SmtpPort, WebPort, this.options) = (smtpPort, webPort, options);
        api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}") };
    }

    /// <param name="options">More of maildev's options, e.g. <c>--incoming-secure</c> (SMTP over TLS from the first byte).</param>
    public static async Task<MailCatcher> StartAsync(params string[] options)
    {
        var catcher = new MailCatcher(TestHosts.FreePort(), TestHosts.FreePort(), options);
        await catcher.StartServerAsync();
        return catcher;
    }

    public async Task StartServerAsync()
    {
        var script = Path.Combine(RepositoryPaths.Root, "tests", "tools", "node_modules", "maildev", "bin", "maildev");
        if (!File.Exists(script))
            throw new InvalidOperationException("maildev is not installed: run ./test.sh, or `npm ci` in tests/tools.");
        var start = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, "--ip", "127.0.0.1", "--smtp", SmtpPort.ToString(), "--web", WebPort.ToString(), "--silent" }.Concat(options))
            start.ArgumentList.Add(argument);
        process = Process.Start(start) ?? throw new InvalidOperationException("Could not start maildev.");
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) errors.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Generous: node starts slowly while the rest of the suite keeps both cores busy.
        for (var attempt = 0; attempt < 300 && !process.HasExited; attempt++)
        {
            try
            {
                if ((await api.GetAsync("/email")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"maildev did not start on ports {SmtpPort}/{WebPort}: {string.Join(" | ", errors)}");
    }

    public async Task StopServerAsync()
    {
        if (process is null) return;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    public async Task<IReadOnlyList<CaughtMessage>> MessagesAsync() =>
        await api.GetFromJsonAsync<List<CaughtMessage>>("/email") ?? [];

    /// <summary>The message as it arrived over SMTP (RFC 5322 source).</summary>
    public async Task<Stream> SourceAsync(CaughtMessage message) => await api.GetStreamAsync($"/email/{message.Id}/source");

    /// <summary>Polls until a message to <paramref name="address"/> arrives; delivery is asynchronous (an outbox job).</summary>
    public async Task<CaughtMessage> WaitForMessageAsync(string address, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var found = (await MessagesAsync()).LastOrDefault(m => m.To.Any(t => string.Equals(t.Address, address, StringComparison.OrdinalIgnoreCase)));
            if (found is not null) return found;
            await Task.Delay(200);
        }
        throw new TimeoutException($"No email to {address} arrived.");
    }

    public async ValueTask DisposeAsync()
    {
        await StopServerAsync();
        api.Dispose();
    }

}

public sealed record CaughtMessage(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("html")] string? Html,
    [property: JsonPropertyName("to")] List<CaughtAddress> To,
    [property: JsonPropertyName("from")] List<CaughtAddress> From);

public sealed record CaughtAddress([property: JsonPropertyName("address")] string Address, [property: JsonPropertyName("name")] string? Name);
