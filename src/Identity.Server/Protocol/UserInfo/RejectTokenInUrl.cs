using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.UserInfo;

/// <summary>
/// RFC 6750 §2.3 leaves the URI query method optional and says it "SHOULD NOT be used"; RFC 9700 §4.3.2 forbids clients
/// to send access tokens there, as URLs end up in proxy and browser logs. OpenIddict read a GET's
/// <c>?access_token=</c> as the token, so userinfo answered 200 where the account API answers 401: refused, on any method.
/// </summary>
internal sealed class RejectTokenInUrl : IOpenIddictServerHandler<ExtractUserInfoRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractUserInfoRequestContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<RejectTokenInUrl>()
            .SetOrder(RejectTokenInHeaderAndBody.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ExtractUserInfoRequestContext context)
    {
        if (context.Transaction.GetHttpRequest()!.Query.ContainsKey(Parameters.AccessToken))
            context.Reject(Errors.InvalidRequest, "Send the access token in the Authorization header, not in the URL.");
        return ValueTask.CompletedTask;
    }
}
