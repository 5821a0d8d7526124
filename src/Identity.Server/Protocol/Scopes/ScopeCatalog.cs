using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Scopes;

/// <summary>The scopes this server knows: the standard OIDC ones plus the API scopes from configuration.</summary>
internal sealed class ScopeCatalog
{
    private readonly Dictionary<string, ScopeDefinition> scopes = new(StringComparer.Ordinal);

    public ScopeCatalog(IOptions<List<ScopeDefinition>> configured)
    {
        foreach (var name in StandardScopes.All) scopes[name] = new ScopeDefinition { Name = name };
        foreach (var scope in configured.Value) scopes[scope.Name] = scope;
    }

    public IEnumerable<string> Names => scopes.Keys;
    public bool Contains(string name) => scopes.ContainsKey(name);

    /// <summary>The audiences of an access token for these scopes: the resources of its API scopes, in order.</summary>
    public IReadOnlyList<string> ResourcesOf(IEnumerable<string> granted) =>
        granted.SelectMany(name => scopes.TryGetValue(name, out var scope) ? scope.Resources : []).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// RFC 9068 §3: aud names the resources the token is for — those of its API scopes, plus this server itself
    /// (userinfo, the account API) when it carries a standard scope or no API scope at all.
    /// </summary>
    public IReadOnlyList<string> AudiencesOf(IReadOnlyCollection<string> granted, string issuer)
    {
        var resources = ResourcesOf(granted);
        var forThisServer = resources.Count == 0 || granted.Any(s => s != StandardScopes.OfflineAccess && StandardScopes.All.Contains(s));
        return forThisServer ? [.. resources, issuer] : resources;
    }

    /// <summary>
    /// Parses a space-delimited scope parameter (RFC 6749 §3.3) against what the client may have. An omitted scope
    /// means everything the client is allowed, the pre-defined default §3.3 permits.
    /// </summary>
    public ScopeResult Resolve(string? requested, IReadOnlyCollection<string> allowed)
    {
        if (requested is null) return new ScopeResult(allowed.Where(Contains).ToArray(), null);
        var names = requested.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (names.Length == 0) return new ScopeResult(null, OAuthError.InvalidScope("empty scope parameter"));
        var unknown = names.FirstOrDefault(n => !Contains(n) || !allowed.Contains(n));
        return unknown is null
            ? new ScopeResult(names, null)
            : new ScopeResult(null, OAuthError.InvalidScope($"scope '{Truncate(unknown)}' unknown or not allowed"));
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}

internal readonly record struct ScopeResult(string[]? Scopes, OAuthError? Error);
