using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 8693 §2.2.2: a subject or actor token that is invalid "for any reason" (expired, revoked, not ours, the
/// person behind it gone) is <c>invalid_request</c>. OpenIddict's Exchange.NormalizeErrorResponse, just before, turns
/// every token refusal at the token endpoint into invalid_grant, which is right for codes and refresh tokens only.
/// </summary>
internal sealed class ReportRejectedExchangeTokensAsInvalidRequest : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<ReportRejectedExchangeTokensAsInvalidRequest>()
            .SetOrder(OpenIddictServerHandlers.Exchange.NormalizeErrorResponse.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        if (context.Request?.IsTokenExchangeGrantType() == true && context.Response.Error == Errors.InvalidGrant)
            context.Response.Error = Errors.InvalidRequest;
        return ValueTask.CompletedTask;
    }
}
