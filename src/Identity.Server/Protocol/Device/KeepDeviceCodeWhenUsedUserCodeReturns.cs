using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Device;

/// <summary>
/// A user code already answered (allowed) and presented again — the person opens verification_uri_complete a second
/// time, goes back to the consent page, submits it twice, or anyone who reads the code off the screen types it — is
/// refused here, before OpenIddict's ValidateTokenEntry takes the redeemed code for a stolen one and revokes its
/// authorization, device code included: the device, which had not polled yet, got invalid_grant instead of its tokens.
/// Reuse detection stays where it guards something, on the device code (and codes and refresh tokens).
/// </summary>
internal sealed class KeepDeviceCodeWhenUsedUserCodeReturns(IOpenIddictTokenManager tokens) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenIdResolved>()
            .UseScopedHandler<KeepDeviceCodeWhenUsedUserCodeReturns>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateTokenEntry.Descriptor.Order - 400)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (!context.Principal!.HasTokenType(TokenTypeIdentifiers.Private.UserCode)) return;
        if (await tokens.FindByIdAsync(context.TokenId!, context.CancellationToken) is { } token
            && await tokens.HasStatusAsync(token, Statuses.Redeemed, context.CancellationToken))
            context.Reject(Errors.InvalidToken, "The specified user code has already been used.");
    }
}
