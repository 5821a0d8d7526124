using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.ClientAuthentication;

/// <summary>
/// RFC 7523 §3 and OIDC Core §9 for a client assertion whose signature the client's key set verified, each failure
/// <c>invalid_client</c> as RFC 7523 §3.2 requires (OpenIddict's own checks of the same claims answer invalid_request,
/// invalid_grant or invalid_token, and it reads OpenIddict's private <c>oi_</c> claims, which a client could put in its
/// assertion to override <c>exp</c> and <c>aud</c>). iss and sub are the client; aud is this server's issuer and nothing
/// else (RFC 7523bis: a token endpoint URL as audience is what made assertions replayable across servers); exp is
/// present and near, nbf (if any) past; jti is present, so that RejectReplayedClientAssertions can accept it once. And a
/// key declared for one algorithm (its <c>alg</c>) verifies only that one (RFC 8725 §3.1: "each key MUST be used with
/// exactly one algorithm, and this MUST be checked"): OpenIddict tries every key of the set with every algorithm allowed.
/// </summary>
internal sealed class ValidateClientAssertionClaims(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<RequireClientAssertionValidation>()
            .UseScopedHandler<ValidateClientAssertionClaims>()
            // After the signature and expiry, before OpenIddict's audience check (which would answer invalid_token).
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateAudiences.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        // The claims as the client signed them: OpenIddict's principal already holds its own oi_ claims derived from them.
        if (context.TokenValidationResult?.SecurityToken is not JsonWebToken assertion)
            context.Reject(Errors.InvalidClient, "The client assertion is not a signed JWT.");
        else if (Problem(assertion, context) is { } problem)
            context.Reject(Errors.InvalidClient, problem);
        else if (await DeclaredAlgorithmAsync(assertion) is { Length: > 0 } declared && declared != assertion.Alg)
            context.Reject(Errors.InvalidClient, "The client assertion is signed with another algorithm than its key is declared for.");
    }

    /// <summary>The <c>alg</c> of the client's JWK that verified the assertion (OpenIddict hands the validator converted keys).</summary>
    private async Task<string?> DeclaredAlgorithmAsync(JsonWebToken assertion)
    {
        if (assertion.SigningKey is JsonWebKey verifying) return verifying.Alg;
        // Already loaded (and cached) when OpenIddict resolved the client's keys; Problem has checked that iss is the client.
        if (await applications.FindByClientIdAsync(assertion.Issuer) is not { } application
            || await applications.GetJsonWebKeySetAsync(application) is not { } set) return null;
        var material = Material(assertion.SigningKey);
        return material is null ? null : set.Keys.FirstOrDefault(key => Material(key) is { } other && other.AsSpan().SequenceEqual(material))?.Alg;
    }

    /// <summary>What tells one public key from another: an RSA modulus or an EC point's x coordinate.</summary>
    private static byte[]? Material(SecurityKey? key) => key switch
    {
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.RSA, N: { Length: > 0 } n } => Base64UrlEncoder.DecodeBytes(n),
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.EllipticCurve, X: { Length: > 0 } x } => Base64UrlEncoder.DecodeBytes(x),
        RsaSecurityKey { Rsa: { } rsa } => rsa.ExportParameters(false).Modulus,
        RsaSecurityKey rsa => rsa.Parameters.Modulus,
        ECDsaSecurityKey { ECDsa: { } ec } => ec.ExportParameters(false).Q.X,
        _ => null,
    };

    private static string? Problem(JsonWebToken assertion, ValidateTokenContext context)
    {
        if (assertion.Claims.Any(c => c.Type.StartsWith("oi_", StringComparison.Ordinal)))
            return "The client assertion carries reserved claims.";
        if (!assertion.TryGetPayloadValue<string>(Claims.Issuer, out var issuer) || !assertion.TryGetPayloadValue<string>(Claims.Subject, out var subject)
            || string.IsNullOrEmpty(issuer) || issuer != subject)
            return "The client assertion's iss and sub must both be the client_id.";
        if (context.Transaction.Request?.ClientId is { Length: > 0 } clientId && clientId != issuer)
            return "The client assertion was issued by another client.";
        if (assertion.Audiences.ToList() is not [var audience] || !context.ValidAudiences.Contains(audience))
            return $"The client assertion's audience must be this server's issuer, {context.ValidAudiences.FirstOrDefault()}, alone.";
        if (!TryGetTime(assertion, Claims.ExpiresAt, out var expiresAt))
            return "The client assertion has no expiry.";
        var now = context.Options.TimeProvider.GetUtcNow();
        if (expiresAt > now + ClientAssertions.MaximumLifetime + ClientAssertions.ClockSkew)
            return $"The client assertion expires too far ahead (at most {ClientAssertions.MaximumLifetime.TotalMinutes:0} minutes).";
        if (assertion.TryGetPayloadValue<object>(Claims.NotBefore, out _)
            && (!TryGetTime(assertion, Claims.NotBefore, out var notBefore) || notBefore > now + ClientAssertions.ClockSkew))
            return "The client assertion is not valid yet.";
        if (!assertion.TryGetPayloadValue<string>(Claims.JwtId, out var jwtId) || jwtId is not { Length: > 0 and <= 1000 })
            return "The client assertion needs a jti (OpenID Connect Core section 9).";
        return null;
    }

    private static bool TryGetTime(JsonWebToken assertion, string claim, out DateTimeOffset time)
    {
        time = default;
        if (!assertion.TryGetPayloadValue<long>(claim, out var seconds) || seconds is < 0 or > 253402300799) return false;
        time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
