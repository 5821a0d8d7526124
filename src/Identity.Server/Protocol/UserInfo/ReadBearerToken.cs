using Microsoft.AspNetCore;
using Microsoft.Net.Http.Headers;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.UserInfo;

/// <summary>
/// The userinfo endpoint's access token from the Authorization header, in place of OpenIddict's ExtractAccessToken,
/// which took everything after "Bearer " as the token. RFC 6750 §2.1: <c>credentials = "Bearer" 1*SP b64token</c>, so
/// "Bearer  &lt;token&gt;" with more spaces carries the same token; it was refused 401 invalid_token. The account API
/// reads its header alike (<see cref="Validation.ReadBearerTokenFromHeader"/>).
/// </summary>
internal sealed class ReadBearerToken : IOpenIddictServerHandler<ExtractUserInfoRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractUserInfoRequestContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<ReadBearerToken>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractAccessToken<ExtractUserInfoRequestContext>.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ExtractUserInfoRequestContext context)
    {
        if (Validation.BearerHeader.TokenOf(context.Transaction.GetHttpRequest()!.Headers[HeaderNames.Authorization]) is { } token)
            context.Transaction.Request!.AccessToken = token;
        return default;
    }
}
