using System.Text.Json.Serialization;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Protocol.Scopes;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Discovery;

/// <summary>GET /.well-known/openid-configuration (OIDC Discovery 1.0 §3, RFC 8414 §2).</summary>
internal sealed class DiscoveryEndpoint(IssuerUri issuer, ScopeCatalog scopes, IOptions<TokenOptions> options)
{
    public IResult Handle(HttpContext http)
    {
        http.Response.Headers.CacheControl = "public, max-age=300";
        return Results.Json(new DiscoveryDocument(
            Issuer: issuer.Value,
            AuthorizationEndpoint: issuer.Endpoint("connect/authorize"),
            TokenEndpoint: issuer.Endpoint("connect/token"),
            RevocationEndpoint: issuer.Endpoint("connect/revoke"),
            IntrospectionEndpoint: issuer.Endpoint("connect/introspect"),
            UserinfoEndpoint: issuer.Endpoint("connect/userinfo"),
            EndSessionEndpoint: issuer.Endpoint("connect/endsession"),
            JwksUri: issuer.Endpoint(".well-known/jwks"),
            GrantTypesSupported: GrantTypes.All,
            ScopesSupported: scopes.Names.ToList(),
            ResponseTypesSupported: ["code"],
            ResponseModesSupported: ["query", "form_post"],
            TokenEndpointAuthMethodsSupported: AuthMethods,
            RevocationEndpointAuthMethodsSupported: AuthMethods,
            IntrospectionEndpointAuthMethodsSupported: ["client_secret_basic", "client_secret_post"],
            CodeChallengeMethodsSupported: ["S256"],
            IdTokenSigningAlgValuesSupported: options.Value.SigningAlgorithm == "RS256" ? ["RS256", "ES256"] : ["ES256", "RS256"],
            SubjectTypesSupported: ["public"],
            ClaimsSupported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "name", "given_name",
                "family_name", "preferred_username", "updated_at", "email", "email_verified", "role"],
            PromptValuesSupported: ["none", "login", "consent"],
            AuthorizationResponseIssParameterSupported: true));
    }

    private static readonly string[] AuthMethods = ["client_secret_basic", "client_secret_post", "none"];
}

internal sealed record DiscoveryDocument(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("authorization_endpoint")] string AuthorizationEndpoint,
    [property: JsonPropertyName("token_endpoint")] string TokenEndpoint,
    [property: JsonPropertyName("revocation_endpoint")] string RevocationEndpoint,
    [property: JsonPropertyName("introspection_endpoint")] string IntrospectionEndpoint,
    [property: JsonPropertyName("userinfo_endpoint")] string UserinfoEndpoint,
    [property: JsonPropertyName("end_session_endpoint")] string EndSessionEndpoint,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("grant_types_supported")] IReadOnlyList<string> GrantTypesSupported,
    [property: JsonPropertyName("scopes_supported")] IReadOnlyList<string> ScopesSupported,
    [property: JsonPropertyName("response_types_supported")] IReadOnlyList<string> ResponseTypesSupported,
    [property: JsonPropertyName("response_modes_supported")] IReadOnlyList<string> ResponseModesSupported,
    [property: JsonPropertyName("token_endpoint_auth_methods_supported")] IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    [property: JsonPropertyName("revocation_endpoint_auth_methods_supported")] IReadOnlyList<string> RevocationEndpointAuthMethodsSupported,
    [property: JsonPropertyName("introspection_endpoint_auth_methods_supported")] IReadOnlyList<string> IntrospectionEndpointAuthMethodsSupported,
    [property: JsonPropertyName("code_challenge_methods_supported")] IReadOnlyList<string> CodeChallengeMethodsSupported,
    [property: JsonPropertyName("id_token_signing_alg_values_supported")] IReadOnlyList<string> IdTokenSigningAlgValuesSupported,
    [property: JsonPropertyName("subject_types_supported")] IReadOnlyList<string> SubjectTypesSupported,
    [property: JsonPropertyName("claims_supported")] IReadOnlyList<string> ClaimsSupported,
    [property: JsonPropertyName("prompt_values_supported")] IReadOnlyList<string> PromptValuesSupported,
    [property: JsonPropertyName("authorization_response_iss_parameter_supported")] bool AuthorizationResponseIssParameterSupported);
