using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Transport;

/// <summary>
/// RFC 8707 §2: a <c>resource</c> that is not an absolute URI, or has a fragment, is <c>invalid_target</c> ("The requested
/// resource is invalid, missing, unknown, or malformed"); OpenIddict's ValidateResourceParameter, which this replaces at
/// the authorization, pushed authorization and token endpoints, answers <c>invalid_request</c>. The same checks, the same place.
/// </summary>
internal sealed class RefuseMalformedResourcesAsInvalidTarget<TContext> : IOpenIddictServerHandler<TContext>
    where TContext : OpenIddictServerEvents.BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RefuseMalformedResourcesAsInvalidTarget<TContext>>()
            .SetOrder(typeof(TContext) == typeof(OpenIddictServerEvents.ValidateTokenRequestContext)
                ? OpenIddictServerHandlers.Exchange.ValidateResourceParameter.Descriptor.Order
                : typeof(TContext) == typeof(OpenIddictServerEvents.ValidatePushedAuthorizationRequestContext)
                    ? OpenIddictServerHandlers.Authentication.ValidatePushedResourceParameter.Descriptor.Order
                    : OpenIddictServerHandlers.Authentication.ValidateResourceParameter.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        foreach (var resource in context.Transaction.Request?.GetResources() ?? [])
        {
            if (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc)
                context.Reject(Errors.InvalidTarget, "The 'resource' parameter must be an absolute URI (RFC 8707 section 2).");
            else if (uri.Fragment.Length > 0)
                context.Reject(Errors.InvalidTarget, "The 'resource' parameter must not include a fragment (RFC 8707 section 2).");
            else continue;
            break;
        }
        return ValueTask.CompletedTask;
    }
}
