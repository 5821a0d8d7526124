using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Validation.AspNetCore;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// OpenIddict's validation handler is an ASP.NET Core request handler, so the authentication middleware builds it and
/// runs its request pipeline (a transaction, the ProcessRequest event) on every request that the server's handler
/// passes through: the token, userinfo, authorization and end-session endpoints. None of them authenticates with
/// validation (they use the server's scheme); only the Bearer-protected API does. On a request the server has
/// recognised as one of its endpoints, this leaves the validation scheme out. The middleware asks the server's handler
/// first (it was registered first) and reads the schemes as it goes, so by the time it reaches validation the server's
/// transaction says which endpoint this is; in any other order the check finds no transaction and keeps validation.
/// </summary>
internal sealed class ValidationOffServerEndpoints(IOptions<AuthenticationOptions> options, IHttpContextAccessor http)
    : AuthenticationSchemeProvider(options)
{
    public override async Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync()
    {
        var schemes = await base.GetRequestHandlerSchemesAsync();
        return http.HttpContext is { } context ? Skipping(schemes, context) : schemes;
    }

    private static IEnumerable<AuthenticationScheme> Skipping(IEnumerable<AuthenticationScheme> schemes, HttpContext context)
    {
        foreach (var scheme in schemes)
            if (scheme.Name != OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme || !OnServerEndpoint(context))
                yield return scheme;
    }

    private static bool OnServerEndpoint(HttpContext context) =>
        context.Features.Get<OpenIddictServerAspNetCoreFeature>()?.Transaction?.EndpointType is { } type
        && type != OpenIddictServerEndpointType.Unknown;
}
