using Identity.Server.Protocol.Transport;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Tests.Protocol.Transport;

/// <summary>
/// Our endpoint inference decides as OpenIddict's built-in InferEndpointType does, which it replaces: both run on the
/// server's own options over every endpoint path with and without a path base, in other cases, with trailing slashes,
/// and on paths that are not endpoints.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class InferEndpointTypeFromPathTests(ServerFixture server)
{
    private static readonly string[] Paths =
    [
        "/connect/authorize", "/connect/token", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/connect/endsession",
        "/connect/par", "/connect/device", "/connect/verify", "/.well-known/openid-configuration", "/.well-known/jwks",
    ];

    public static TheoryData<string, string> Requests()
    {
        var data = new TheoryData<string, string>();
        foreach (var pathBase in new[] { "", "/id", "/ID" })
        {
            var baseUri = "https://issuer.test" + pathBase;
            foreach (var path in Paths)
            {
                data.Add(baseUri, baseUri + path);
                data.Add(baseUri, baseUri + path + "/");
                data.Add(baseUri, baseUri + path.ToUpperInvariant());
                data.Add(baseUri, baseUri + path + "//");
                data.Add(baseUri, baseUri + path + "x");
                data.Add(baseUri, baseUri + path[..^1]);
                data.Add(baseUri, baseUri + path + "?a=b");
                data.Add(baseUri, "https://issuer.test/other" + path);
                data.Add(baseUri, baseUri + "/x" + path);
                if (pathBase.Length > 0) data.Add(baseUri, baseUri + "x" + path[1..]);
            }
            data.Add(baseUri, baseUri);
            data.Add(baseUri, baseUri + "/");
            data.Add(baseUri, baseUri + "/connect/../connect/token");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task DecidesAsTheBuiltInHandler(string baseUri, string requestUri)
    {
        var options = server.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;

        var expected = await InferAsync(new OpenIddictServerHandlers.InferEndpointType(), options, baseUri, requestUri);
        var actual = await InferAsync(new InferEndpointTypeFromPath(), options, baseUri, requestUri);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task FindsTheTokenEndpointUnderAPathBase()
    {
        var options = server.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;

        Assert.Equal(OpenIddictServerEndpointType.Token,
            await InferAsync(new InferEndpointTypeFromPath(), options, "https://issuer.test/id", "https://issuer.test/id/connect/token"));
        Assert.Equal(OpenIddictServerEndpointType.Unknown,
            await InferAsync(new InferEndpointTypeFromPath(), options, "https://issuer.test/id", "https://issuer.test/connect/token"));
    }

    private static async Task<OpenIddictServerEndpointType> InferAsync(IOpenIddictServerHandler<ProcessRequestContext> handler,
        OpenIddictServerOptions options, string baseUri, string requestUri)
    {
        var context = new ProcessRequestContext(new OpenIddictServerTransaction { Options = options, Logger = NullLogger.Instance })
        {
            BaseUri = new Uri(baseUri), RequestUri = new Uri(requestUri),
        };
        await handler.HandleAsync(context);
        return context.EndpointType;
    }
}
