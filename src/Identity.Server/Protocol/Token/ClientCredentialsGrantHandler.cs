using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §4.4: a confidential client acting for itself (OpenIddict refuses public clients; RejectPersonalScopesForClients
/// scopes about a person); the subject is the client; no refresh token (§4.4.3) and no id_token.
/// </summary>
internal sealed class ClientCredentialsGrantHandler(ClientScopes clientScopes, ScopeCatalog catalog, IssuerUri issuer) : ITokenGrantHandler
{
    public async Task<GrantResult> HandleAsync(OpenIddictRequest request, HttpContext http, CancellationToken ct)
    {
        IReadOnlyList<string> scopes = request.GetScopes() is { Length: > 0 } requested
            ? requested
            : (await clientScopes.AllowedAsync(request.ClientId!, ct)).Where(s => !StandardScopes.All.Contains(s)).ToList();
        var principal = Principals.ForClient(request.ClientId!);
        principal.SetScopes(scopes);
        principal.SetResources(catalog.AudiencesOf(scopes.ToHashSet(StringComparer.Ordinal), issuer.Value));
        return principal;
    }
}
