namespace Identity.Server.Hosting;

/// <summary>
/// <c>--healthcheck-probe</c>: asks the running server's /health/live and sets the exit code, so that a container
/// HEALTHCHECK needs no curl in the runtime image.
/// </summary>
internal static class LivenessProbe
{
    public const string Verb = "--healthcheck-probe";

    public static async Task<int> RunAsync()
    {
        var port = Environment.GetEnvironmentVariable("IDENTITY_PROBE_PORT") ?? "8080";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            return (await http.GetAsync($"http://127.0.0.1:{port}/health/live")).IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
