using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Scopes;

/// <summary>
/// The scopes this server knows: the standard OIDC ones plus the API scopes of "Identity:Scopes", read once from
/// configuration (they are also seeded into OpenIddict's scope store, see <see cref="ScopeSeeder"/>).
/// </summary>
internal sealed class ScopeCatalog
{
    private readonly Dictionary<string, ScopeDefinition> scopes = new(StringComparer.Ordinal);

    public ScopeCatalog(IOptions<List<ScopeDefinition>> configured)
    {
        foreach (var name in StandardScopes.All) scopes[name] = new ScopeDefinition { Name = name };
        foreach (var scope in configured.Value) scopes[scope.Name] = scope;
    }

    public IReadOnlyCollection<string> Names => scopes.Keys;
    public IEnumerable<ScopeDefinition> Definitions => scopes.Values;

    /// <summary>
    /// RFC 9068 §3: aud names the resources the token is for — those of its API scopes, plus this server itself
    /// (userinfo, the account API) when it carries a standard scope or no API scope at all.
    /// </summary>
    public IReadOnlyList<string> AudiencesOf(IReadOnlyCollection<string> granted, string issuer)
    {
        var resources = granted.SelectMany(name => scopes.TryGetValue(name, out var scope) ? scope.Resources : []).Distinct(StringComparer.Ordinal).ToList();
        var forThisServer = resources.Count == 0 || granted.Any(s => s != StandardScopes.OfflineAccess && StandardScopes.All.Contains(s));
        return forThisServer ? [.. resources, issuer] : resources;
    }
}
