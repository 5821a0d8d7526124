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
    /// <summary>RFC 9126 §6: authorization requests only through /connect/par (a plain one is refused).</summary>
    public bool RequirePushedAuthorizationRequests { get; set; }
    /// <summary>
    /// RFC 7523 / OIDC Core §9 private_key_jwt: the client's public keys, a JWKS as inline JSON (a string, or the object
    /// itself in a JSON settings file). A confidential client has a secret, a key set, or both. Read from configuration
    /// by <see cref="ClientKeySetBinding"/>, not by the binder (hence the internal setter): the binder cannot put an
    /// object into a string, and would silently drop the whole client.
    /// </summary>
    public string? JsonWebKeySet { get; internal set; }

    public bool IsPublic => string.Equals(Type, "public", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The grant types a client may be given (SPEC §2).</summary>
public static class SupportedGrantTypes
{
    public static readonly IReadOnlyList<string> All =
        [GrantTypes.AuthorizationCode, GrantTypes.ClientCredentials, GrantTypes.Password, GrantTypes.RefreshToken, GrantTypes.DeviceCode,
            GrantTypes.TokenExchange];
}
