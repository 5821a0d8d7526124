using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.Net.Http.Headers;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.ClientAuthentication;

/// <summary>
/// client_secret_basic (RFC 6749 §2.3.1) at every endpoint that authenticates clients, in place of OpenIddict's
/// ExtractBasicAuthenticationCredentials, which differs from it twice. A Basic header it cannot read was answered
/// 400 invalid_request; it is an attempt to authenticate through the Authorization header, which §5.2 answers with
/// 401 invalid_client (SPEC §2). And a client_id in the body naming another client than the header was silently
/// overwritten by the header's; naming two clients in one request is now 400 invalid_request. So is a body that
/// repeats one of the parameters this handler reads and writes: RejectRepeatedParameters runs after it, and saw only
/// the header's single value written over <c>client_id=a&amp;client_id=b</c>, which OpenIddict reads as absent.
/// </summary>
internal sealed class ReadBasicCredentials<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<ReadBasicCredentials<TContext>>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractBasicAuthenticationCredentials<TContext>.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        string? header = context.Transaction.GetHttpRequest()!.Headers[HeaderNames.Authorization];
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return default;
        var request = context.Transaction.Request!;

        // RFC 6749 §3.2: parameters "MUST NOT be included more than once", in the words of RejectRepeatedParameters.
        foreach (var name in (ReadOnlySpan<string>)[Parameters.ClientId, Parameters.ClientSecret, Parameters.ClientAssertion])
        {
            if (request.GetParameter(name)?.GetRawValue() is not ImmutableArray<string?> { Length: > 1 }) continue;
            context.Reject(Errors.InvalidRequest, $"The '{name}' parameter is repeated.");
            return default;
        }
        // §2.3: one authentication method per request.
        if (!string.IsNullOrEmpty(request.ClientSecret) || !string.IsNullOrEmpty(request.ClientAssertion))
        {
            context.Reject(Errors.InvalidRequest, "Client credentials were sent both in the Authorization header and in the body; send them once.");
            return default;
        }
        if (Decode(header.AsSpan("Basic ".Length).Trim()) is not var (clientId, secret))
        {
            context.Reject(Errors.InvalidClient, "The Basic credentials are malformed: expected base64 of the form-encoded client_id, ':' and the form-encoded secret.");
            return default;
        }
        if (!string.IsNullOrEmpty(request.ClientId) && !string.Equals(request.ClientId, clientId, StringComparison.Ordinal))
        {
            context.Reject(Errors.InvalidRequest, "The client_id parameter names another client than the Authorization header.");
            return default;
        }
        request.ClientId = clientId;
        request.ClientSecret = secret;
        return default;
    }

    private static (string ClientId, string? Secret)? Decode(ReadOnlySpan<char> encoded)
    {
        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64Chars(encoded, bytes, out var length)) return null;
        string decoded;
        try { decoded = StrictUtf8.GetString(bytes, 0, length); }
        catch (DecoderFallbackException) { return null; }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return null;
        return (FormDecode(decoded[..colon])!, FormDecode(decoded[(colon + 1)..]));
    }

    /// <summary>§2.3.1: both halves are application/x-www-form-urlencoded before they are joined ('+' is a space).</summary>
    private static string? FormDecode(string value) =>
        value.Length == 0 ? null : Uri.UnescapeDataString(value.Replace("+", "%20", StringComparison.Ordinal));
}
