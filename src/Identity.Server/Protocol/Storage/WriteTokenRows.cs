using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore.Models;
using Identity.Server.Protocol.Token.Rotation;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Storage;

/// <summary>Opens a sign-in's deferral of token rows (<see cref="TokenStore"/>) before any token is created.</summary>
internal sealed class DeferTokenRows(TokenWrites writes) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseScopedHandler<DeferTokenRows>()
            .SetOrder(OpenIddictServerHandlers.ValidateSignInDemand.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        writes.Deferred = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Writes the sign-in's token rows, once every token is generated and before the response can leave: a token the
/// client receives always has its row. On PostgreSQL they join the rows of concurrent sign-ins (<see cref="TokenRowWriter"/>).
/// A refresh writes them only together with the redemption of the token it presented and its sealed successor
/// (<see cref="RefreshRedemption"/>); if another use redeemed that token first, nothing is written and the request is
/// answered with that use's successor. A sign-in that ends early (rejected, or answered from a replay) writes
/// nothing, and issues nothing.
/// </summary>
internal sealed class WriteTokenRows(TokenWrites writes, ServerDbContext db, TokenRowWriter writer, RefreshSuccessors successors,
    UntrackedRows untracked, ApplicationSnapshots snapshots, IOptions<DatabaseOptions> database)
    : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseScopedHandler<WriteTokenRows>()
            .SetOrder(CaptureRefreshSuccessor.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        writes.Deferred = false;
        var redemption = context.Transaction.GetProperty<RefreshRedemption>(RefreshRedemption.Property);
        if (redemption is { Successor: null }) throw new InvalidOperationException("The refresh token's successor was not sealed.");
        List<OpenIddictEntityFrameworkCoreToken<Guid>> rows = [.. writes.Pending];
        writes.Pending.Clear();
        if (redemption is null && rows.Count == 0 && !db.ChangeTracker.HasChanges()) return;
        // Only new token rows, and no transaction of the request's own to write them in: the group writer's.
        // Anything else (SQLite, other pending changes whose order EF must keep) goes through SaveChanges.
        bool written;
        try
        {
            written = database.Value.Provider == DatabaseProvider.Postgres && db.Database.CurrentTransaction is null && !db.ChangeTracker.HasChanges()
                ? await writer.WriteAsync(rows, db, redemption)
                : await SaveAsync(rows, redemption, context.CancellationToken);
        }
        catch (Exception failure) when (ForeignKeyViolation.Is(failure))
        {
            if (failure is DbUpdateException refused) RefusedRows.Forget(refused);
            await RejectVanishedAsync(context);
            return;
        }
        if (!written) await successors.ReplayAsync(context, redemption!.TokenId);
    }

    /// <summary>
    /// The client or the authorization the rows refer to was deleted while the request ran (or, for a client, before this
    /// node's cached copy expired): nothing was written, so nothing may be issued. The client's own error when it is gone.
    /// </summary>
    private async Task RejectVanishedAsync(ProcessSignInContext context)
    {
        var clientId = context.Request.ClientId;
        snapshots.Evict(clientId);
        var clientGone = clientId is null || !await db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>().AsNoTracking()
            .AnyAsync(a => a.ClientId == clientId, context.CancellationToken);
        if (clientGone)
            context.Reject(context.EndpointType == OpenIddictServerEndpointType.Authorization ? Errors.UnauthorizedClient : Errors.InvalidClient,
                "The client application no longer exists.");
        else
            context.Reject(context.EndpointType == OpenIddictServerEndpointType.Token ? Errors.InvalidGrant : Errors.InvalidRequest,
                "The authorization was revoked while the request was processed.");
    }

    /// <summary>The same writes through EF, in one transaction when a refresh token is redeemed with them.</summary>
    private async Task<bool> SaveAsync(List<OpenIddictEntityFrameworkCoreToken<Guid>> rows, RefreshRedemption? redemption, CancellationToken ct)
    {
        // AddRange would insert an authorization read untracked as a new row.
        foreach (var row in rows) untracked.Track(db, row);
        if (redemption is null)
        {
            db.AddRange(rows);
            await db.SaveChangesAsync(ct);
            return true;
        }
        // One SaveChanges runs inside, and a failure rolls everything back: EF's savepoint around it would only add
        // two round trips.
        db.Database.AutoSavepointsEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var redeemed = await db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>()
            .Where(t => t.Id == redemption.TokenId && t.Status == Statuses.Valid)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, Statuses.Redeemed)
                .SetProperty(t => t.RedemptionDate, redemption.At.UtcDateTime)
                .SetProperty(t => t.ConcurrencyToken, Guid.NewGuid().ToString()), ct);
        if (redeemed != 1) return false;
        db.AddRange(rows);
        db.RefreshTokenSuccessors.Add(redemption.Successor!);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }
}
