using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Identity.Server.Hosting;
using Identity.Server.Protocol.Authorization;
using Microsoft.Net.Http.Headers;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// SPEC §6: invalid UTF-8 is a 4xx in the family's format, before anything reads the request. Form bodies are UTF-8
/// (RFC 6749 Appendix B): a form declaring another charset made ASP.NET's form reader decode it as that charset (a
/// UTF-16 body got a token) or throw (UTF-7: 500). Invalid UTF-8 bytes, raw or percent-encoded, were read as U+FFFD or
/// kept as the literal escape, so a <c>state</c> of bytes C0 AF came back to the client as the text "%C0%AF". Refused
/// here: a form body with a charset other than UTF-8 (US-ASCII or ISO-8859-1 when it is ASCII), and a NUL or invalid UTF-8
/// once percent-decoded, in a form body on every endpoint and page, and in the query of OpenIddict's endpoints; and a
/// multipart form on a page. The form body is read once, up to Kestrel's body limit, and handed on from memory.
/// </summary>
internal sealed class Utf8Guard(RequestDelegate next, ILogger<Utf8Guard> logger)
{
    private const string FormMediaType = "application/x-www-form-urlencoded";
    private const int StackLimit = 1024;

    /// <summary>OpenIddict's endpoints, which read their parameters from the query string as well as from a form.</summary>
    private static readonly string[] QueryEndpoints =
    [
        ProtocolPaths.Authorization, ProtocolPaths.Token, ProtocolPaths.Revocation, ProtocolPaths.Introspection, ProtocolPaths.UserInfo,
        ProtocolPaths.EndSession, ProtocolPaths.PushedAuthorization, ProtocolPaths.DeviceAuthorization, ProtocolPaths.Verification,
    ];

    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        var family = EndpointFamilies.Of(request.Path);
        var isQueryEndpoint = IsQueryEndpoint(request.Path);
        // The account API reads JSON (its formatter takes UTF-8 only); discovery and JWKS read nothing.
        if (family == EndpointFamily.Api || family == EndpointFamily.Protocol && !isQueryEndpoint)
        {
            await next(http);
            return;
        }
        var refusal = isQueryEndpoint && request.QueryString.HasValue ? Refusal(request.QueryString.Value!) : null;
        refusal ??= await ReadFormAsync(request, family);
        if (refusal is not null)
        {
            await RefuseAsync(http, family, refusal);
            return;
        }
        await next(http);
    }

    /// <summary>
    /// Reads a form body into memory and hands it on, or says why it is refused. The body limit is Kestrel's, which
    /// has refused a larger Content-Length already and stops a longer body while it is read.
    /// </summary>
    private static async Task<string?> ReadFormAsync(HttpRequest request, EndpointFamily family)
    {
        if (request.ContentType is { } contentType && contentType.TrimStart().StartsWith(FormMediaType, StringComparison.OrdinalIgnoreCase))
        {
            if (FormCharset(contentType) is not { } charset)
                return "A form body is application/x-www-form-urlencoded in UTF-8 (RFC 6749 Appendix B): send charset=utf-8, or none.";
            var body = new MemoryStream(request.ContentLength is { } length and <= HostingRegistration.MaxRequestBodySize ? (int)length : 0);
            await request.BodyReader.CopyToAsync(body, request.HttpContext.RequestAborted);
            body.Position = 0;
            request.Body = body;
            return Refusal(body.GetBuffer().AsSpan(0, (int)body.Length), charset);
        }
        // multipart/form-data, which no page sends (they take no files): its parts name charsets of their own, and the
        // form reader threw on UTF-7 there too. OpenIddict's endpoints refuse it themselves.
        return family == EndpointFamily.Page && request.HasFormContentType ? "A form is sent as application/x-www-form-urlencoded, in UTF-8." : null;
    }

    private static bool IsQueryEndpoint(PathString path)
    {
        foreach (var endpoint in QueryEndpoints)
            if (path.StartsWithSegments(endpoint, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// The form body's charset when it is one this server reads: UTF-8 (also when none is named), or US-ASCII and
    /// ISO-8859-1 for a body that is ASCII. Null for
    /// any other, and for a media type that only begins like the form's (the form reader would throw on it).
    /// </summary>
    private static Encoding? FormCharset(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || !type.MediaType.Equals(FormMediaType, StringComparison.OrdinalIgnoreCase))
            return null;
        var charset = HeaderUtilities.RemoveQuotes(type.Charset);
        if (charset.Length == 0 || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            return Encoding.UTF8;
        // ISO-8859-1 is what Java's and Apache's form encoders name by default; over ASCII it is the same bytes as UTF-8.
        return charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase) || charset.Equals("iso-8859-1", StringComparison.OrdinalIgnoreCase)
            ? Encoding.ASCII : null;
    }

    /// <summary>Why a query string is refused, or null. Kestrel has already decoded its raw non-ASCII bytes, strictly.</summary>
    internal static string? Refusal(string query)
    {
        byte[]? rented = null;
        var size = Encoding.UTF8.GetMaxByteCount(query.Length);
        Span<byte> bytes = size <= StackLimit ? stackalloc byte[StackLimit] : rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var length = Encoding.UTF8.GetBytes(query, bytes);
            return RefusalOfDecoded(bytes[..PercentDecode(bytes[..length], bytes)], Encoding.UTF8);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Why a form-encoded body in the given charset is refused, or null.</summary>
    internal static string? Refusal(ReadOnlySpan<byte> formEncoded, Encoding charset)
    {
        byte[]? rented = null;
        Span<byte> decoded = formEncoded.Length <= StackLimit ? stackalloc byte[StackLimit] : rented = ArrayPool<byte>.Shared.Rent(formEncoded.Length);
        try
        {
            return RefusalOfDecoded(decoded[..PercentDecode(formEncoded, decoded)], charset);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static string? RefusalOfDecoded(ReadOnlySpan<byte> decoded, Encoding charset)
    {
        if (decoded.Contains((byte)0)) return "The request contains a NUL character.";
        if (charset == Encoding.ASCII) return Ascii.IsValid(decoded) ? null : "The request holds characters outside ASCII in a charset other than UTF-8.";
        return Utf8.IsValid(decoded) ? null : "The request is not valid UTF-8.";
    }

    /// <summary>
    /// The bytes the form reader decodes (WHATWG URL §5.1): each %XX is one byte, anything else stands for itself ('+' is
    /// a space, ASCII either way; '&amp;' and '=' too, so the whole is valid UTF-8 exactly when every name and value is).
    /// A '%' without two hex digits stays, as the form reader keeps it. May decode in place.
    /// </summary>
    private static int PercentDecode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var length = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var b = source[i];
            if (b == '%' && i + 2 < source.Length && HexValue(source[i + 1]) is var high and >= 0 && HexValue(source[i + 2]) is var low and >= 0)
            {
                b = (byte)(high << 4 | low);
                i += 2;
            }
            destination[length++] = b;
        }
        return length;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private async Task RefuseAsync(HttpContext http, EndpointFamily family, string description)
    {
        logger.MalformedTextRefused(http.Request.Path, description);
        var response = http.Response;
        response.StatusCode = StatusCodes.Status400BadRequest;
        response.Headers.CacheControl = "no-store";
        if (family == EndpointFamily.Page)
        {
            var title = http.Request.Path.StartsWithSegments(ProtocolPaths.EndSession, StringComparison.OrdinalIgnoreCase)
                ? "Sign-out request refused"
                : http.Request.Path.StartsWithSegments(ProtocolPaths.Authorization, StringComparison.OrdinalIgnoreCase) ? "Sign-in request refused" : "Request refused";
            await ErrorPages.Refused(description, title).ExecuteAsync(http);
            return;
        }
        // RFC 6750 §3: a protected resource (userinfo) names the error in its challenge, as OpenIddict does there.
        if (http.Request.Path.StartsWithSegments(ProtocolPaths.UserInfo, StringComparison.OrdinalIgnoreCase))
            response.Headers.WWWAuthenticate =
                $"Bearer realm=\"{ProtocolRegistration.ProtocolRealm}\", error=\"{Errors.InvalidRequest}\", error_description=\"{description}\"";
        await EndpointFamilies.WriteOAuthErrorAsync(response, Errors.InvalidRequest, description);
    }
}
