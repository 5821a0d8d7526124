using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// Seals the complete token response as the successor of the refresh token this request redeems, for WriteTokenRows
/// to write with the redemption and the new tokens' rows: one answer, or none at all.
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

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.Transaction.GetProperty<RefreshRedemption>(RefreshRedemption.Property) is { } redemption)
            redemption.Successor = successors.Seal(redemption.TokenId, context.Request.RefreshToken!, context.Response, redemption.At);
        return ValueTask.CompletedTask;
    }
}
