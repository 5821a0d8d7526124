namespace Identity.Server.Protocol.Clients;

/// <summary>An OAuth client (OpenIddict calls it an application). Declared in configuration, seeded at start-up.</summary>
public sealed class Client
{
    public required string ClientId { get; set; }
    /// <summary>SHA-256 of the secret; null for public clients.</summary>
    public byte[]? SecretHash { get; set; }
    public ClientType Type { get; set; }
    public string DisplayName { get; set; } = "";
    public string[] AllowedGrantTypes { get; set; } = [];
    public string[] AllowedScopes { get; set; } = [];
    public string[] RedirectUris { get; set; } = [];
    public string[] PostLogoutRedirectUris { get; set; } = [];
    public string[] AllowedCorsOrigins { get; set; } = [];
    public bool AllowIntrospection { get; set; }
    public bool RequireConsent { get; set; } = true;
    public AccessTokenFormat AccessTokenFormat { get; set; }
    public TimeSpan? AccessTokenLifetime { get; set; }
    public TimeSpan? RefreshTokenLifetime { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public bool IsPublic => Type == ClientType.Public;
    public bool AllowsGrant(string grantType) => AllowedGrantTypes.Contains(grantType, StringComparer.Ordinal);
}

public enum ClientType { Public, Confidential }

public enum AccessTokenFormat { Jwt, Reference }
