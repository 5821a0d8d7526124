using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// The winning redemption's last step: seals the complete token response as the redeemed token's successor and commits
/// the redemption, the new tokens' rows and the successor together — one answer, or none at all.
/// </summary>
internal sealed class CaptureRefreshSuccessor(RefreshSuccessors successors) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<RequireRefreshTokenGrant>()
            .UseScopedHandler<CaptureRefreshSuccessor>()
            // After the response is complete (AttachSignInParameters, CompleteTokenResponse), before it is written.
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.Transaction.GetProperty<RedeemOrReplayRefreshToken.Redemption>(RedeemOrReplayRefreshToken.Property) is not { } redemption) return;
        await successors.StoreAsync(redemption.TokenId, context.Request.RefreshToken!, context.Response,
            context.Options.TimeProvider.GetUtcNow(), context.CancellationToken);
        await redemption.Transaction.CommitAsync(context.CancellationToken);
    }
}
