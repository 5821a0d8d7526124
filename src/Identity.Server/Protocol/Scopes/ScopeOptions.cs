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
