using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Reflection;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// RFC 6749 §3.1, §3.2: request parameters "MUST NOT be included more than once". OpenIddict keeps a repeated
/// parameter as an array and reads it as absent (a repeated scope would silently become the client's default scope);
/// here it is 400 invalid_request, naming the parameter. Runs once OpenIddict has read the form or query. The
/// exceptions are the parameters defined to repeat: <c>resource</c> (RFC 8707 §2) and <c>audience</c> (RFC 8693 §2.1),
/// "to indicate that the issued token is intended to be used at the multiple resources listed"; and the parameters
/// this server does not know, which RFC 6749 §3.1 says it "MUST ignore" (a link's repeated <c>utm_source</c> failed
/// the sign-in).
/// </summary>
internal sealed class RejectRepeatedParameters<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RejectRepeatedParameters<TContext>>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractAccessToken<TContext>.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    /// <summary>Every parameter name OpenIddict defines (<see cref="Parameters"/>): the ones it reads, and more.</summary>
    private static readonly FrozenSet<string> KnownParameters = typeof(Parameters)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToFrozenSet(StringComparer.Ordinal);

    public ValueTask HandleAsync(TContext context)
    {
        if (context.Transaction.Request is not { } request) return ValueTask.CompletedTask;
        foreach (var (name, value) in request.GetParameters())
        {
            if (value.GetRawValue() is not ImmutableArray<string?> { Length: > 1 } || name is Parameters.Resource or Parameters.Audience
                || !KnownParameters.Contains(name)) continue;
            context.Reject(Errors.InvalidRequest, $"The '{(name.Length <= 40 ? name : name[..40] + "...")}' parameter is repeated.");
            break;
        }
        return ValueTask.CompletedTask;
    }
}
