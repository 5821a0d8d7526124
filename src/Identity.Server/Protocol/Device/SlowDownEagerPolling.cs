using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// RFC 8628 §3.5: a device polling a pending code faster than its interval is answered <c>slow_down</c>, which OpenIddict
/// never says (it answers authorization_pending however often it is asked). Only a pending code is rate-checked: an
/// approved, denied or expired one gets its final answer from OpenIddict's ValidateTokenEntry, next, at once.
/// </summary>
internal sealed class SlowDownEagerPolling(IOpenIddictTokenManager tokens, DevicePolls polls) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenIdResolved>()
            .AddFilter<RequireDeviceCodeValidation>()
            .UseScopedHandler<SlowDownEagerPolling>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateTokenEntry.Descriptor.Order - 250)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (!Guid.TryParse(context.TokenId, out var id)) return;
        var token = await tokens.FindByIdAsync(context.TokenId!, context.CancellationToken);
        if (token is null || !await tokens.HasStatusAsync(token, Statuses.Inactive, context.CancellationToken)) return;
        var now = context.Options.TimeProvider.GetUtcNow();
        var expiresAt = context.Principal!.GetExpirationDate() ?? now + TimeSpan.FromHours(1);
        if (await polls.IsTooSoonAsync(id, expiresAt, now, context.CancellationToken))
            context.Reject(Errors.SlowDown, "The device polled sooner than its interval; wait 5 seconds more between polls.");
    }
}

/// <summary>Runs a handler only while OpenIddict validates a device code at the token endpoint (a device polling).</summary>
internal sealed class RequireDeviceCodeValidation : IOpenIddictServerHandlerFilter<ValidateTokenContext>
{
    public ValueTask<bool> IsActiveAsync(ValidateTokenContext context) =>
        ValueTask.FromResult(context.EndpointType == OpenIddictServerEndpointType.Token
            && context.ValidTokenTypes.Count == 1 && context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.DeviceCode));
}
