using System.Buffers;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// RFC 6749 §5.2: an <c>error_description</c> "MUST NOT include characters outside the set %x20-21 / %x23-5B /
/// %x5D-7E" — printable ASCII without the double quote and the backslash, which is also what fits in a
/// <c>WWW-Authenticate</c> quoted string. Descriptions that repeat what the request sent (a parameter's name, a scope, a
/// target) could carry anything; and an invalid_client description, which OpenIddict copies into the Basic challenge,
/// with one character outside the set made Kestrel refuse the header and answer 500. Every other character becomes '?'.
/// Placed as <see cref="OmitErrorUri{TContext}"/>, once the error is in the response.
/// </summary>
internal sealed class KeepErrorTextsInTheirCharacterSet<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseRequestContext
{
    private static readonly SearchValues<char> Allowed = SearchValues.Create(
        " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<KeepErrorTextsInTheirCharacterSet<TContext>>()
            .SetOrder(OmitErrorUri<TContext>.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        if (context.Transaction.Response is { ErrorDescription: { } description } response && description.AsSpan().ContainsAnyExcept(Allowed))
            response.ErrorDescription = InTheSet(description);
        return default;
    }

    public static string InTheSet(string text) => string.Create(text.Length, text, static (chars, text) =>
    {
        for (var i = 0; i < text.Length; i++) chars[i] = Allowed.Contains(text[i]) ? text[i] : '?';
    });
}
