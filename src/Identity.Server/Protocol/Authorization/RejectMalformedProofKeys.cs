using System.Buffers;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// RFC 7636 §4.1, §4.2: a code_verifier, and a code_challenge, is 43 to 128 characters of A-Z a-z 0-9 - . _ ~.
/// OpenIddict compares whatever it is given, so a three-letter verifier — guessable, the opposite of what PKCE is for —
/// redeemed its code. Refused as invalid_request at the authorization and pushed authorization endpoints (sent to the
/// client once its redirect URI is known) and at the token endpoint, as node-oidc-provider does.
/// </summary>
internal sealed class RejectMalformedProofKeys<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RejectMalformedProofKeys<TContext>>()
            // Once OpenIddict has checked that the parameters are there and the method is S256.
            .SetOrder(typeof(TContext) switch
            {
                var t when t == typeof(ValidateTokenRequestContext) =>
                    OpenIddictServerHandlers.Exchange.ValidateProofKeyForCodeExchangeParameters.Descriptor.Order + 500,
                var t when t == typeof(ValidatePushedAuthorizationRequestContext) =>
                    OpenIddictServerHandlers.Authentication.ValidatePushedProofKeyForCodeExchangeParameters.Descriptor.Order + 500,
                _ => OpenIddictServerHandlers.Authentication.ValidateProofKeyForCodeExchangeParameters.Descriptor.Order + 500,
            })
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        var request = context.Transaction.Request!;
        var (name, value) = context is ValidateTokenRequestContext
            ? (Parameters.CodeVerifier, request.IsAuthorizationCodeGrantType() ? request.CodeVerifier : null)
            : (Parameters.CodeChallenge, request.CodeChallenge);
        if (!string.IsNullOrEmpty(value) && !IsWellFormed(value))
            context.Reject(Errors.InvalidRequest, $"The {name} must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 section 4).");
        return default;
    }

    private static bool IsWellFormed(string value) =>
        value.Length is >= 43 and <= 128 && !value.AsSpan().ContainsAnyExcept(Unreserved);
}
