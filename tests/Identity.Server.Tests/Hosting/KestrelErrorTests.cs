using System.Net;
using System.Net.Sockets;
using System.Text;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// What only a real socket shows: Kestrel's body size limit (SPEC §6's oversized bodies, a 413 in the format of the
/// endpoint's family), and a HEAD answered as GET putting no content on the wire (RFC 9110 §9.3.2).
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
            // HttpClient sends the body anyway once Expect100ContinueTimeout (1 s by default) passes without an answer; on a
            // busy machine the first request can take that long, and the body then races the 413's close (a reset).
            Http = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(60) }) { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
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

    [Fact]
    public async Task HeadOnTheKeySet_SendsTheGetsHeaders_AndNoContent()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, host.Port);
        var stream = socket.GetStream();
        // Pipelined on one connection: any content after the HEAD's headers would be read as the start of the next answer.
        await stream.WriteAsync("HEAD /.well-known/jwks HTTP/1.1\r\nHost: localhost\r\n\r\nGET /.well-known/jwks HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());

        var head = await ReadHeadersAsync(stream);
        var get = await ReadHeadersAsync(stream);

        Assert.StartsWith("HTTP/1.1 200", head[0]);
        Assert.StartsWith("HTTP/1.1 200", get[0]);
        foreach (var name in new[] { "Content-Length", "Content-Type", "Cache-Control", "Vary" })
            Assert.Equal(Header(get, name), Header(head, name));
        Assert.NotNull(Header(head, "Content-Length"));
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

    private static async Task<List<string>> ReadHeadersAsync(NetworkStream stream)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await stream.ReadAsync(one, timeout.Token) == 1)
        {
            if (one[0] != '\n') { line.Append((char)one[0]); continue; }
            var text = line.ToString().TrimEnd('\r');
            line.Clear();
            if (text.Length == 0) break;
            lines.Add(text);
        }
        return lines;
    }

    private static string? Header(List<string> lines, string name) =>
        lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p[0].Equals(name, StringComparison.OrdinalIgnoreCase)).Select(p => p[1].Trim()).FirstOrDefault();
}
