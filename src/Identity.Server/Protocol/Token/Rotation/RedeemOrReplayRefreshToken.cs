using Microsoft.AspNetCore;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// SPEC §2's idempotent rotation, in place of OpenIddict's redemption of refresh tokens (which lets a redeemed token
/// mint a second, live successor inside the leeway, and N concurrent uses mint N). A conditional update redeems the
/// token inside a transaction that <see cref="CaptureRefreshSuccessor"/> commits with the successor's rows: of
/// concurrent uses exactly one updates the row, the others wait on its lock and find it redeemed. Whoever finds it
/// redeemed — a loser of that race, or a retry inside the leeway (OpenIddict's ValidateTokenEntry let it through) — is
/// answered with the winner's sealed response and mints nothing.
/// </summary>
internal sealed class RedeemOrReplayRefreshToken(ServerDbContext db, RefreshSuccessors successors, IOpenIddictServerDispatcher dispatcher)
    : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<RequireRefreshTokenGrant>()
            .UseScopedHandler<RedeemOrReplayRefreshToken>()
            // Replaces OpenIddictServerHandlers.RedeemTokenEntry for refresh tokens (RedeemOtherTokenEntries keeps it for the rest).
            .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    /// <summary>The transaction property under which the winner's redemption waits for its successor.</summary>
    internal static readonly string Property = typeof(RedeemOrReplayRefreshToken).FullName!;

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        var authentication = context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!)
            ?? throw new InvalidOperationException("The refresh token was not authenticated.");
        if (authentication.RefreshTokenPrincipal?.GetTokenId() is not { } id || !Guid.TryParse(id, out var tokenId)) return;
        var now = context.Options.TimeProvider.GetUtcNow();

        // One SaveChanges runs inside, and a failure rolls the whole transaction back: EF's savepoint around it would
        // only add two round trips to every refresh.
        db.Database.AutoSavepointsEnabled = false;
        var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        // Rolled back at the end of the request unless CaptureRefreshSuccessor committed it.
        context.Transaction.GetHttpRequest()!.HttpContext.Response.RegisterForDisposeAsync(transaction);
        var redeemed = await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken<Guid>>()
            .Where(t => t.Id == tokenId && t.Status == Statuses.Valid)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, Statuses.Redeemed)
                .SetProperty(t => t.RedemptionDate, now.UtcDateTime)
                .SetProperty(t => t.ConcurrencyToken, Guid.NewGuid().ToString()), context.CancellationToken);
        if (redeemed == 1)
        {
            context.Transaction.SetProperty(Property, new Redemption(tokenId, transaction));
            return;
        }
        await transaction.RollbackAsync(context.CancellationToken);

        if (await successors.ReadAsync(tokenId, context.Request.RefreshToken!, now, context.CancellationToken) is not { } response)
        {
            context.Reject(Errors.InvalidGrant, "The specified refresh token has already been redeemed.");
            return;
        }
        context.Transaction.Response = response;
        var notification = new ApplyTokenResponseContext(context.Transaction);
        await dispatcher.DispatchAsync(notification);
        if (!notification.IsRequestHandled) throw new InvalidOperationException("The replayed token response was not written.");
        context.HandleRequest();
    }

    internal sealed record Redemption(Guid TokenId, IDbContextTransaction Transaction);
}

/// <summary>OpenIddict's own RedeemTokenEntry, for everything but refresh tokens (codes, device codes, request tokens).</summary>
internal sealed class RedeemOtherTokenEntries(IOpenIddictTokenManager tokens) : IOpenIddictServerHandler<ProcessSignInContext>
{
    private readonly OpenIddictServerHandlers.RedeemTokenEntry builtIn = new(tokens);

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .Import(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor)
            .AddFilter<RequireNoRefreshTokenGrant>()
            .UseScopedHandler<RedeemOtherTokenEntries>()
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context) => builtIn.HandleAsync(context);
}

internal sealed class RequireRefreshTokenGrant : IOpenIddictServerHandlerFilter<OpenIddictServerEvents.BaseContext>
{
    public ValueTask<bool> IsActiveAsync(OpenIddictServerEvents.BaseContext context) =>
        ValueTask.FromResult(context.Transaction.Request?.IsRefreshTokenGrantType() == true);
}

internal sealed class RequireNoRefreshTokenGrant : IOpenIddictServerHandlerFilter<OpenIddictServerEvents.BaseContext>
{
    public ValueTask<bool> IsActiveAsync(OpenIddictServerEvents.BaseContext context) =>
        ValueTask.FromResult(context.Transaction.Request?.IsRefreshTokenGrantType() != true);
}
