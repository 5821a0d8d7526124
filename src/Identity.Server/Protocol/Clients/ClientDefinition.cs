namespace Identity.Server.Protocol.Clients;

/// <summary>One entry of "Identity:Clients" (SPEC §5). Declared clients are created or updated at start-up.</summary>
public sealed class ClientDefinition
{
    public string ClientId { get; set; } = "";
    public string? ClientSecret { get; set; }
    public string? DisplayName { get; set; }
    public string Type { get; set; } = "confidential";
    public string[] AllowedGrantTypes { get; set; } = [];
    public string[] AllowedScopes { get; set; } = [];
    public string[] RedirectUris { get; set; } = [];
    public string[] PostLogoutRedirectUris { get; set; } = [];
    public string[] AllowedCorsOrigins { get; set; } = [];
    public bool AllowIntrospection { get; set; }
    public string AccessTokenFormat { get; set; } = "jwt";
    public bool RequireConsent { get; set; } = true;
    public TimeSpan? AccessTokenLifetime { get; set; }
    public TimeSpan? RefreshTokenLifetime { get; set; }
}

public static class GrantTypes
{
    public const string Password = "password";
    public const string RefreshToken = "refresh_token";
    public const string ClientCredentials = "client_credentials";
    public const string AuthorizationCode = "authorization_code";
    public static readonly IReadOnlyList<string> All = [AuthorizationCode, ClientCredentials, Password, RefreshToken];
}
