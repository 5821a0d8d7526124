using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Scopes;

/// <summary>One entry of "Identity:Scopes": an API scope and the audiences (resources) its tokens are for.</summary>
public sealed class ScopeDefinition
{
    public string Name { get; set; } = "";
    public string? DisplayName { get; set; }
    public string[] Resources { get; set; } = [];
}

public static class StandardScopes
{
    public const string OpenId = "openid";
    public const string Profile = "profile";
    public const string Email = "email";
    public const string OfflineAccess = "offline_access";
    public const string Roles = "roles";
    public static readonly IReadOnlyList<string> All = [OpenId, Profile, Email, OfflineAccess, Roles];
}

/// <summary>
/// "Identity:Scopes" stops start-up on an entry that cannot work, naming its key: a scope without a name crashed after the
/// migrations; a second entry of one name silently replaced the first; a standard scope with resources changed the
/// audience of every OIDC token; a resource that is not a URI ended up as an aud.
/// </summary>
internal sealed class ScopeDefinitionValidator(IConfiguration configuration) : IValidateOptions<List<ScopeDefinition>>
{
    public const string SectionName = "Identity:Scopes";

    public ValidateOptionsResult Validate(string? name, List<ScopeDefinition> scopes)
    {
        var failures = new List<string>();
        var keys = Hosting.ListKeys.Of(configuration, SectionName, scopes.Count);
        var firstKeyOf = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < scopes.Count; i++)
        {
            var scope = scopes[i];
            var key = keys[i];
            if (!IsScopeToken(scope.Name))
            {
                failures.Add($"{key}:Name must be a scope name: printable ASCII without spaces, '\"' or '\\' (RFC 6749 §3.3).");
                continue;
            }
            if (firstKeyOf.TryGetValue(scope.Name, out var first))
                failures.Add($"{key}:Name: '{scope.Name}' is already declared by {first}.");
            else
                firstKeyOf[scope.Name] = key;
            // The standard scopes' tokens are for this server (userinfo, the account API): ScopeCatalog.AudiencesOf.
            if (StandardScopes.All.Contains(scope.Name) && scope.Resources.Length > 0)
                failures.Add($"{key}:Resources: '{scope.Name}' is a standard scope, whose tokens are for this server; declare an API scope for a resource.");
            foreach (var resource in scope.Resources.Where(r => !IsResource(r)))
                failures.Add($"{key}:Resources: '{resource}' must be an absolute URI without a fragment (RFC 8707 §2).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    private static bool IsScopeToken(string? name) =>
        !string.IsNullOrEmpty(name) && name.All(c => c is '\x21' or (>= '\x23' and <= '\x5B') or (>= '\x5D' and <= '\x7E'));

    // On Unix "/path" parses as an absolute file URI, hence the IsFile check.
    private static bool IsResource(string resource) =>
        Uri.TryCreate(resource, UriKind.Absolute, out var uri) && !uri.IsFile && !uri.IsUnc && !resource.Contains('#');
}
