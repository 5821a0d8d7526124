using Identity.Server.Protocol.Validation;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Validation.AspNetCore;

namespace Identity.Server.Tests.Protocol.Validation;

[Collection(ServerCollection.Name)]
public sealed class ValidationOffServerEndpointsTests(ServerFixture server)
{
    private const string Server = OpenIddictServerAspNetCoreDefaults.AuthenticationScheme;
    private const string Validation = OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme;

    [Fact]
    public async Task OnAnEndpointTheServerRecognised_ValidationIsLeftOut()
    {
        var context = ContextOn(OpenIddictServerEndpointType.Token);
        Assert.Equal([Server], await RequestHandlersAsync(context));
    }

    [Theory]
    [InlineData(true)] // the server's handler ran and found no endpoint of its own: the account API, pages
    [InlineData(false)] // no server transaction at all
    public async Task Elsewhere_ValidationStays(bool serverRan)
    {
        var context = serverRan ? ContextOn(OpenIddictServerEndpointType.Unknown) : new DefaultHttpContext();
        Assert.Equal([Server, Validation], await RequestHandlersAsync(context));
    }

    [Fact]
    public async Task TheRunningServer_UsesIt_WithTheServersSchemeAskedFirst()
    {
        // Validation can only be left out when the server's handler has run before the middleware reaches it.
        var provider = server.Services.GetRequiredService<IAuthenticationSchemeProvider>();
        Assert.IsType<ValidationOffServerEndpoints>(provider);
        var order = (await provider.GetRequestHandlerSchemesAsync()).Select(s => s.Name).ToList();
        Assert.InRange(order.IndexOf(Server), 0, order.IndexOf(Validation) - 1);
    }

    private static DefaultHttpContext ContextOn(OpenIddictServerEndpointType type)
    {
        var context = new DefaultHttpContext();
        var transaction = new OpenIddictServerTransaction { EndpointType = type, Logger = NullLogger.Instance, Options = new OpenIddictServerOptions() };
        context.Features.Set(new OpenIddictServerAspNetCoreFeature { Transaction = transaction });
        return context;
    }

    private static async Task<string[]> RequestHandlersAsync(HttpContext context)
    {
        var options = new AuthenticationOptions();
        options.AddScheme(Server, scheme => scheme.HandlerType = typeof(OpenIddictServerAspNetCoreHandler));
        options.AddScheme(Validation, scheme => scheme.HandlerType = typeof(OpenIddictValidationAspNetCoreHandler));
        var provider = new ValidationOffServerEndpoints(Options.Create(options), new HttpContextAccessor { HttpContext = context });
        return (await provider.GetRequestHandlerSchemesAsync()).Select(s => s.Name).ToArray();
    }
}
