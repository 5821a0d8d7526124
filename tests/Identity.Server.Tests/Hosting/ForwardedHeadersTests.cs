using System.Net;
using System.Net.Sockets;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// SPEC §2: behind a TLS-terminating proxy, X-Forwarded-Proto makes a plain-HTTP hop count as HTTPS — but only when the
/// request comes from a proxy listed in ForwardedHeaders:KnownProxies / KnownNetworks; anyone else could forge it.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData(null, null, HttpStatusCode.BadRequest)]
    [InlineData("127.0.0.1", null, HttpStatusCode.OK)]
    [InlineData(null, "127.0.0.0/8", HttpStatusCode.OK)]
    [InlineData("10.1.2.3", null, HttpStatusCode.BadRequest)]
    public async Task ForwardedProto_IsBelievedOnlyFromKnownProxies(string? proxy, string? network, HttpStatusCode expected)
    {
        var postgres = await TestPostgres.GetAsync();
        var database = await postgres.CreateDatabaseAsync("forwarded");
        var port = TestHosts.FreePort();
        var settings = new Dictionary<string, string?> { ["Identity:RequireHttps"] = "true" };
        if (proxy is not null) settings["ForwardedHeaders:KnownProxies:0"] = proxy;
        if (network is not null) settings["ForwardedHeaders:KnownNetworks:0"] = network;
        await using var server = ConfiguredServer.OnPostgres(postgres.ConnectionString(database), settings);
        server.UseKestrel(port);
        server.StartServer();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        try
        {
            using var plain = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
            Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(plain)).StatusCode);

            using var forwarded = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
            forwarded.Headers.Add("X-Forwarded-Proto", "https");
            Assert.Equal(expected, (await http.SendAsync(forwarded)).StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
            await postgres.DropDatabaseAsync(database);
        }
    }

}
