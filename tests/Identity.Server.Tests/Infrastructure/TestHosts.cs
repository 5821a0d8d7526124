using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Identity.Server.Tests.Infrastructure;

public static class TestHosts
{
    /// <summary>A client for a derived host (WithTime, WithSettings) that, like the fixture's, speaks HTTPS and does not follow redirects.</summary>
    public static HttpClient HttpsClient(this WebApplicationFactory<Program> host) =>
        host.CreateClient(new() { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false });

    /// <summary>
    /// Like <see cref="HttpsClient"/>, for a host that trusts a proxy (<c>ForwardedHeaders:KnownProxies</c>): every request
    /// says, in X-Forwarded-For, that it comes from <paramref name="address"/>. The in-memory server's connection has no
    /// address of its own, and the forwarded-headers middleware accepts that as a proxy's.
    /// </summary>
    public static HttpClient HttpsClientFrom(this WebApplicationFactory<Program> host, string address)
    {
        var http = host.HttpsClient();
        http.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return http;
    }

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
