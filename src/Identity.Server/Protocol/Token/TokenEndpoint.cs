using Microsoft.AspNetCore;
using Identity.Server.Hosting;
using OpenIddict.Server.AspNetCore;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// POST /connect/token, reached only after OpenIddict has parsed the request, authenticated the client and checked
/// its grant permission. Chooses the grant's handler and turns its answer into a sign-in (tokens) or an RFC 6749 §5.2
/// error.
/// </summary>
internal sealed class TokenEndpoint(IServiceProvider services, ServerMetrics metrics, ILogger<TokenEndpoint> logger)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The token request was not parsed by OpenIddict.");
        var grant = services.GetRequiredKeyedService<ITokenGrantHandler>(request.GrantType!);
        var result = await grant.HandleAsync(request, http, ct);
        if (result.Error is not { } error) return OAuthResults.SignIn(result.Principal!);
        logger.TokenRequestRejected(request.ClientId, error.Code, error.Detail ?? error.Description);
        // OpenIddict writes (and CountRefusals counts) every refusal but a rate-limited one, which is ours to answer.
        if (error.RetryAfter is not null) metrics.RequestRefused(error.Code);
        return OAuthResults.Reject(error);
    }
}
