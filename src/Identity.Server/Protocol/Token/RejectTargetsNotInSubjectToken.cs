using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// The <c>audience</c> and <c>resource</c> parameters of a token request (RFC 8693 §2.1, RFC 8707 §2) may name only
/// what the presented subject token is already for — a token exchange narrows, it never reaches a new audience. The
/// other grants take their audiences from their scopes, narrowed by <c>resource</c> (<see cref="Resources.NarrowAudiencesToRequestedResources"/>);
/// <c>audience</c>, RFC 8693's alone, is <c>invalid_request</c> there. In place of OpenIddict's ValidateAudiences and ValidateResources (a
/// global list, compared as strings: a resource <c>https://api.example</c> could never match, as OpenIddict keeps it as
/// <c>https://api.example/</c>) and of its ValidateAudiencePermissions and ValidateResourcePermissions, which want
/// per-client aud:/rsrc: permissions SPEC §5 has no setting for, and answer invalid_request.
/// </summary>
internal sealed class RejectTargetsNotInSubjectToken : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<RejectTargetsNotInSubjectToken>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateResourcePermissions.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        // RFC 8707's resource narrows the other grants' tokens once their audiences are known
        // (NarrowAudiencesToRequestedResources); their audience parameter OpenIddict refuses (ValidateAudienceParameter).
        if (!context.Request.IsTokenExchangeGrantType()) return ValueTask.CompletedTask;
        var reachable = context.SubjectTokenPrincipal?.GetAudiences() ?? [];
        if (Requested(context.Request).FirstOrDefault(target => Resolve(target, reachable) is null) is { } target)
            context.Reject(Errors.InvalidTarget, $"The token cannot be issued for '{(target.Length <= 60 ? target : target[..60] + "...")}'.");
        return ValueTask.CompletedTask;
    }

    /// <summary>Every audience and resource the request names.</summary>
    public static IEnumerable<string> Requested(OpenIddictRequest request) => request.GetAudiences().Concat(request.GetResources());

    /// <summary>The audience among <paramref name="known"/> that <paramref name="target"/> names: the same string, or the same absolute URI.</summary>
    public static string? Resolve(string target, IEnumerable<string> known) =>
        known.FirstOrDefault(audience => audience == target
            || (Uri.TryCreate(audience, UriKind.Absolute, out var a) && Uri.TryCreate(target, UriKind.Absolute, out var b) && a == b));
}
