namespace Identity.Server.Protocol.Introspection;

/// <summary>POST /connect/introspect (RFC 7662): for authenticated clients that are allowed to introspect.</summary>
internal sealed class IntrospectionEndpoint(ClientRequests requests, IntrospectionHandler handler, Hosting.ServerMetrics metrics)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var request = await requests.ReadAsync(http, ct);
        if (request.Rejection is not null) return request.Rejection;
        var client = request.Client!;
        // §2.1: the endpoint must require authentication; a public client has none to offer.
        if (client.IsPublic) return requests.Reject(OAuthError.InvalidClient() with { Detail = "public client" }, client.ClientId, request.UsedBasic);
        if (!client.AllowIntrospection)
            return requests.Reject(new OAuthError("unauthorized_client", "The client is not allowed to introspect tokens.", StatusCodes.Status403Forbidden), client.ClientId);
        if (request.Form!["token"] is not { } token) return requests.Reject(OAuthError.InvalidRequest("The token parameter is required."), client.ClientId);

        var answer = await handler.IntrospectAsync(token, client, ct);
        metrics.Introspected(answer["active"] is true);
        return OAuthResults.NoStore(answer);
    }
}
