using Microsoft.AspNetCore;
using Microsoft.Net.Http.Headers;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.UserInfo;

/// <summary>
/// RFC 6750 §2: a client "MUST NOT use more than one method to transmit the token in each request". OpenIddict takes
/// the header and ignores the other; a request that sends both is 400 invalid_request.
/// </summary>
internal sealed class RejectTokenInHeaderAndBody : IOpenIddictServerHandler<ExtractUserInfoRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractUserInfoRequestContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<RejectTokenInHeaderAndBody>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractAccessToken<ExtractUserInfoRequestContext>.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ExtractUserInfoRequestContext context)
    {
        var header = context.Transaction.GetHttpRequest()!.Headers[HeaderNames.Authorization].ToString();
        // The parameter, not its string: a repeated access_token reads as no string, and the header's token was then used.
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && context.Request?.GetParameter(Parameters.AccessToken) is not null)
            context.Reject(Errors.InvalidRequest, "Send the access token once, in the Authorization header or the form.");
        return ValueTask.CompletedTask;
    }
}
