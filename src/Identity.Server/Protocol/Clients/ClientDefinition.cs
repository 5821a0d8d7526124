using static OpenIddict.Abstractions.OpenIddictConstants;

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

    public bool IsPublic => string.Equals(Type, "public", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The grant types a client may be given (SPEC §2).</summary>
public static class SupportedGrantTypes
{
    public static readonly IReadOnlyList<string> All =
        [GrantTypes.AuthorizationCode, GrantTypes.ClientCredentials, GrantTypes.Password, GrantTypes.RefreshToken];
}
