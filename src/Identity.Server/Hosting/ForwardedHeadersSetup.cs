using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Identity.Server.Hosting;

/// <summary>
/// Behind a TLS-terminating proxy the scheme and client address arrive in X-Forwarded-* headers; they are believed only
/// from the proxies listed in <c>ForwardedHeaders:KnownProxies</c> (addresses) and <c>ForwardedHeaders:KnownNetworks</c>
/// (CIDR), since anyone else could forge them.
/// </summary>
internal static class ForwardedHeadersSetup
{
    public static WebApplicationBuilder AddForwardedHeaders(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("ForwardedHeaders");
        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
                options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                    ? address
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address."));
            foreach (var network in networks)
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{network}' is not a CIDR network."));
        });
        return builder;
    }
}
