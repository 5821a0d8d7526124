using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Protocol.Scopes;

namespace Identity.Server.Protocol.Token;

/// <summary>RFC 6749 §4.4: a confidential client acting for itself; sub is the client; no refresh token (§4.4.3).</summary>
internal sealed class ClientCredentialsGrantHandler(ScopeCatalog scopes, TokenIssuer issuer, TimeProvider time) : ITokenGrantHandler
{
    /// <summary>Scopes about a person mean nothing when no person is involved.</summary>
    private static readonly HashSet<string> UserScopes = [.. StandardScopes.All];

    public string GrantType => GrantTypes.ClientCredentials;

    public async Task<GrantResult> HandleAsync(TokenRequest request, Client client, CancellationToken ct)
    {
        if (client.IsPublic) return OAuthError.UnauthorizedClient() with { Detail = "client_credentials needs a confidential client" };
        var scope = scopes.Resolve(request.Scope, client.AllowedScopes.Where(s => !UserScopes.Contains(s)).ToArray());
        if (scope.Error is not null) return scope.Error;
        return await issuer.IssueAsync(new IssueRequest(client, client.ClientId, scope.Scopes!, time.GetUtcNow()), ct);
    }
}
