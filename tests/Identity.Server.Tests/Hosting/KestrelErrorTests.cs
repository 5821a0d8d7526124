using System.Net;
using System.Text;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// What only a real socket shows: Kestrel's body size limit (SPEC §6's oversized bodies, a 413 in the format of the
/// endpoint's family).
/// </summary>
public sealed class KestrelErrorTests(KestrelErrorTests.Host host) : IClassFixture<KestrelErrorTests.Host>
{
    public sealed class Host : IAsyncLifetime
    {
        private TestPostgres.Server postgres = null!;
        private string database = "";
        public ConfiguredServer Server { get; private set; } = null!;
        public int Port { get; private set; }
        public HttpClient Http { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            postgres = await TestPostgres.GetAsync();
            database = await postgres.CreateDatabaseAsync("kestrel_errors");
            Port = TestHosts.FreePort();
            Server = ConfiguredServer.OnPostgres(postgres.ConnectionString(database), new Dictionary<string, string?> { ["Identity:RequireHttps"] = "false" });
            Server.UseKestrel(Port);
            Server.StartServer();
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
        }

        public async Task DisposeAsync()
        {
            Http.Dispose();
            await Server.DisposeAsync();
            await postgres.DropDatabaseAsync(database);
        }
    }

    [Theory]
    [InlineData("/connect/token")]
    [InlineData("/connect/revoke")]
    [InlineData("/connect/introspect")]
    [InlineData("/connect/par")]
    [InlineData("/connect/device")]
    public async Task AnOversizedForm_IsA413OAuthError(string path)
    {
        var response = await PostAsync(path, "application/x-www-form-urlencoded", "client_id=x&x=");

        await ErrorFormatTests.AssertOAuthErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "invalid_request");
    }

    [Fact]
    public async Task AnOversizedJsonBody_IsA413ProblemDetails()
    {
        var response = await PostAsync("/api/account/register", "application/json", """{"email":"a@example.test","password":" """);

        await ErrorFormatTests.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "register");
    }

    /// <summary>
    /// Five times Kestrel's limit, sent with a browser's Accept header, after a 100-continue as curl does: the server
    /// refuses on the declared length, and a client still sending would see the connection close under it.
    /// </summary>
    private async Task<HttpResponseMessage> PostAsync(string path, string contentType, string prefix)
    {
        var body = Encoding.ASCII.GetBytes(prefix).Concat(Enumerable.Repeat((byte)'a', 5 * 1024 * 1024)).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("Accept", "text/html");
        request.Headers.ExpectContinue = true;
        var response = await host.Http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
