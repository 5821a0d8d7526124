using Microsoft.AspNetCore;
using Microsoft.Net.Http.Headers;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// The account API's access token from the Authorization header, in place of OpenIddict's
/// ExtractAccessTokenFromAuthorizationHeader, which took everything after "Bearer " as the token. RFC 6750 §2.1:
/// <c>credentials = "Bearer" 1*SP b64token</c>, so "Bearer  &lt;token&gt;" with more spaces carries the same token;
/// it was refused 401 invalid_token. The header is the only place the account API reads a token from (ProtocolRegistration).
/// </summary>
internal sealed class ReadBearerTokenFromHeader : IOpenIddictValidationHandler<ProcessAuthenticationContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictValidationAspNetCoreHandlerFilters.RequireHttpRequest>()
            .AddFilter<OpenIddictValidationHandlerFilters.RequireAccessTokenExtracted>()
            .AddFilter<OpenIddictValidationAspNetCoreHandlerFilters.RequireAccessTokenExtractionFromAuthorizationHeaderEnabled>()
            .UseSingletonHandler<ReadBearerTokenFromHeader>()
            .SetOrder(OpenIddictValidationAspNetCoreHandlers.ExtractAccessTokenFromAuthorizationHeader.Descriptor.Order)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (!string.IsNullOrEmpty(context.AccessToken)) return default;
        context.AccessToken = BearerHeader.TokenOf(context.Transaction.GetHttpRequest()!.Headers[HeaderNames.Authorization]);
        return default;
    }
}
