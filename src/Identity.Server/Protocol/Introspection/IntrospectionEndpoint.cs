using Identity.Server.Protocol.Clients;

namespace Identity.Server.Protocol.Introspection;

/// <summary>POST /connect/introspect (RFC 7662): for authenticated clients that are allowed to introspect.</summary>
internal sealed class IntrospectionEndpoint(ClientAuthenticator clients, IntrospectionHandler handler, ILogger<IntrospectionEndpoint> logger)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var (form, formError) = await ProtocolForm.ReadAsync(http.Request, ct);
        if (formError is not null) return Reject(formError);
        var authentication = await clients.AuthenticateAsync(http.Request, form!, ct);
        if (authentication.Client is not { } client) return Reject(authentication.Error!, authentication.UsedBasic);
        // §2.1: the endpoint must require authentication; a public client has none to offer.
        if (client.IsPublic) return Reject(OAuthError.InvalidClient() with { Detail = "public client" }, authentication.UsedBasic);
        if (!client.AllowIntrospection)
            return Reject(new OAuthError("unauthorized_client", "The client is not allowed to introspect tokens.", StatusCodes.Status403Forbidden));
        if (form!["token"] is not { } token) return Reject(OAuthError.InvalidRequest("The token parameter is required."));

        return OAuthResults.NoStore(await handler.IntrospectAsync(token, client, ct));
    }

    private IResult Reject(OAuthError error, bool usedBasic = false)
    {
        logger.TokenRequestRejected(null, error.Code, error.Detail ?? error.Description);
        return OAuthResults.Error(error, usedBasic);
    }
}
