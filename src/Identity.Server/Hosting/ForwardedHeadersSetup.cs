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
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            var section = configuration.GetSection("ForwardedHeaders");
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // Only what the operator listed: the framework's default (loopback) is replaced, not extended.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
            for (var i = 0; i < proxies.Length; i++)
                options.KnownProxies.Add(IPAddress.TryParse(proxies[i], out var address)
                    ? address
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies:{i}: '{proxies[i]}' is not an IP address."));
            var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
            for (var i = 0; i < networks.Length; i++)
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(networks[i], out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks:{i}: '{networks[i]}' is not a CIDR network."));
        })
        // Read at start-up, so that a list it cannot read is a start-up refusal (exit 1, one log line), not an abort
        // when the pipeline is built, after the migrations and key ring already ran.
        .ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// Adds the forwarded-headers middleware only when a proxy or network is configured: with both lists empty the
    /// middleware checks no address at all and would believe X-Forwarded-* from anyone.
    /// </summary>
    public static IApplicationBuilder UseTrustedForwardedHeaders(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        return options.KnownProxies.Count > 0 || options.KnownIPNetworks.Count > 0 ? app.UseForwardedHeaders() : app;
    }
}
