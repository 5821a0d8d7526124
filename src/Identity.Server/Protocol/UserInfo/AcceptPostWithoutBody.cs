using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.UserInfo;

/// <summary>
/// OIDC Core §5.3.1: a userinfo POST carries the access token as an RFC 6750 Bearer header, and then has no body to
/// describe. OpenIddict reads a POST only with a form content type and refused such a request ("The mandatory
/// 'Content-Type' header is missing."), as oauth4webapi's protectedResourceRequest sends it. An empty POST is read as
/// an empty form.
/// </summary>
internal sealed class AcceptPostWithoutBody : IOpenIddictServerHandler<ExtractUserInfoRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractUserInfoRequestContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<AcceptPostWithoutBody>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractGetOrPostRequest<ExtractUserInfoRequestContext>.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ExtractUserInfoRequestContext context)
    {
        var request = context.Transaction.GetHttpRequest()!;
        if (HttpMethods.IsPost(request.Method) && string.IsNullOrEmpty(request.ContentType)
            && (request.ContentLength == 0 || request.ContentLength is null && !request.Headers.TransferEncoding.Any()))
            request.ContentType = "application/x-www-form-urlencoded";
        return ValueTask.CompletedTask;
    }
}
