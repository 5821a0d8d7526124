using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.ClientAuthentication;

/// <summary>What private_key_jwt (RFC 7523 §2.2, OIDC Core §9) accepts here; discovery advertises the same.</summary>
internal static class ClientAssertions
{
    /// <summary>Asymmetric JWS algorithms only: client key sets hold RSA and EC public keys (ClientKeySet).</summary>
    public static readonly IReadOnlyList<string> SigningAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>Clocks of clients and server may differ by this much (OpenIddict's default for assertions is 5 minutes).</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How far ahead an assertion may expire: its jti is remembered until then (RFC 7523 §3 item 7), so the memory is
    /// bounded. Libraries sign for 60 s (openid-client, oauth4webapi) to 10 minutes (MSAL).
    /// </summary>
    public static readonly TimeSpan MaximumLifetime = TimeSpan.FromMinutes(10);
}

/// <summary>Runs a handler only while OpenIddict validates a client assertion (and no other token).</summary>
internal sealed class RequireClientAssertionValidation : IOpenIddictServerHandlerFilter<ValidateTokenContext>
{
    public ValueTask<bool> IsActiveAsync(ValidateTokenContext context) =>
        ValueTask.FromResult(context.ValidTokenTypes.Count == 1 && context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion));
}
