using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// SPEC §2: with <c>Identity:RequireHttps</c> every protocol endpoint refuses plain HTTP with 400 invalid_request
/// "HTTPS is required." (RFC 6749 §3.1, §3.2). In place of OpenIddict's ValidateTransportSecurityRequirement, which
/// does the same under its own wording and its own switch; forwarded headers from trusted proxies count (Hosting).
/// </summary>
internal sealed class RejectPlainHttp(IOptions<ProtocolOptions> options) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<RejectPlainHttp>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ValidateTransportSecurityRequirement.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        if (context.EndpointType != OpenIddictServerEndpointType.Unknown && options.Value.RequireHttps
            && !context.Transaction.GetHttpRequest()!.IsHttps)
            context.Reject(Errors.InvalidRequest, "HTTPS is required.");
        return ValueTask.CompletedTask;
    }
}
