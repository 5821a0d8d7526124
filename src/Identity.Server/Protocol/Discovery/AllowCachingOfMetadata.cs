using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Discovery;

/// <summary>
/// Discovery is public and changes rarely, so clients and resource servers may cache it for five minutes.
/// </summary>
internal sealed class AllowCachingOfConfiguration : IOpenIddictServerHandler<ApplyConfigurationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyConfigurationResponseContext>()
            .UseSingletonHandler<AllowCachingOfConfiguration>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyConfigurationResponseContext>.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyConfigurationResponseContext context) => CacheControl.Allow(context, "public, max-age=300");
}

/// <summary>
/// JWKS may be cached for an hour: a new key is published days before it signs (TokenOptions.SigningKeyPublishAhead).
/// </summary>
internal sealed class AllowCachingOfJsonWebKeySet : IOpenIddictServerHandler<ApplyJsonWebKeySetResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyJsonWebKeySetResponseContext>()
            .UseSingletonHandler<AllowCachingOfJsonWebKeySet>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyJsonWebKeySetResponseContext>.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyJsonWebKeySetResponseContext context) => CacheControl.Allow(context, "public, max-age=3600");
}

file static class CacheControl
{
    public static ValueTask Allow(BaseRequestContext context, string value)
    {
        if (string.IsNullOrEmpty(context.Transaction.Response?.Error))
            context.Transaction.GetHttpRequest()!.HttpContext.Response.Headers.CacheControl = value;
        return ValueTask.CompletedTask;
    }
}
