using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Identity.Server.Tests.Infrastructure;

public static class TestHosts
{
    /// <summary>A client for a derived host (WithTime, WithSettings) that, like the fixture's, speaks HTTPS and does not follow redirects.</summary>
    public static HttpClient HttpsClient(this WebApplicationFactory<Program> host) =>
        host.CreateClient(new() { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false });

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
