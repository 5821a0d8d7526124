using Identity.Server.Protocol.Clients;

namespace Identity.Server.Protocol;

/// <summary>What revocation and introspection do first: read the form and authenticate the client (RFC 7009 §2.1, RFC 7662 §2.1).</summary>
internal sealed class ClientRequests(ClientAuthenticator clients, ILogger<ClientRequests> logger, Hosting.ServerMetrics metrics)
{
    public async Task<ClientRequest> ReadAsync(HttpContext http, CancellationToken ct)
    {
        var (form, formError) = await ProtocolForm.ReadAsync(http.Request, ct);
        if (formError is not null) return new ClientRequest(null, null, Reject(formError));
        var authentication = await clients.AuthenticateAsync(http.Request, form!, ct);
        return authentication.Client is { } client
            ? new ClientRequest(form, client, null, authentication.UsedBasic)
            : new ClientRequest(null, null, Reject(authentication.Error!, null, authentication.UsedBasic));
    }

    public IResult Reject(OAuthError error, string? clientId = null, bool usedBasic = false)
    {
        logger.TokenRequestRejected(clientId, error.Code, error.Detail ?? error.Description);
        metrics.RequestRefused(error.Code);
        return OAuthResults.Error(error, usedBasic);
    }
}

/// <summary>Either a form from an authenticated client, or the rejection to send.</summary>
internal sealed record ClientRequest(ProtocolForm? Form, Client? Client, IResult? Rejection, bool UsedBasic = false);
