using Identity.Server.Protocol.Clients;

namespace Identity.Server.Protocol.Token;

/// <summary>POST /connect/token: parses, authenticates the client, dispatches to the grant's handler, maps the result.</summary>
internal sealed class TokenEndpoint(ClientAuthenticator clients, ClientRequests requests, IServiceProvider services, Hosting.ServerMetrics metrics)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var (form, formError) = await ProtocolForm.ReadAsync(http.Request, ct);
        if (formError is not null) return requests.Reject(formError);
        var request = TokenRequest.From(form!, http);
        if (request.GrantType is null) return requests.Reject(OAuthError.InvalidRequest("The grant_type parameter is required."));
        var grant = services.GetKeyedService<ITokenGrantHandler>(request.GrantType);
        if (grant is null) return requests.Reject(OAuthError.UnsupportedGrantType());

        var authentication = await clients.AuthenticateAsync(http.Request, form!, ct);
        if (authentication.Client is not { } client) return requests.Reject(authentication.Error!, null, authentication.UsedBasic);
        if (!client.AllowsGrant(grant.GrantType)) return requests.Reject(OAuthError.UnauthorizedClient(), client.ClientId);

        var result = await grant.HandleAsync(request, client, ct);
        if (result.Error is null) metrics.TokenIssued(grant.GrantType, client.ClientId);
        return result.Error is { } error ? requests.Reject(error, client.ClientId) : OAuthResults.NoStore(result.Response!);
    }
}
