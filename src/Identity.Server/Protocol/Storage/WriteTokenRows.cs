using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Identity.Server.Protocol.Token.Rotation;
using OpenIddict.Server;
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
/// client receives always has its row. On PostgreSQL they join the rows of concurrent sign-ins (<see cref="TokenRowWriter"/>). A refresh's rows are already written by then: CaptureRefreshSuccessor saves
/// them with the successor, in the rotation's transaction. A sign-in that ends early (rejected, or answered from a
/// replay) writes nothing, and issues nothing.
/// </summary>
internal sealed class WriteTokenRows(TokenWrites writes, ServerDbContext db, TokenRowWriter writer) : IOpenIddictServerHandler<ProcessSignInContext>
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
        if (!db.ChangeTracker.HasChanges()) return;
        var entries = db.ChangeTracker.Entries().ToList();
        // Only new token rows, and no transaction of the request's own to write them in: the group writer's.
        // Anything else (SQLite, other pending changes whose order EF must keep) goes through SaveChanges.
        if (db.Database.IsNpgsql() && db.Database.CurrentTransaction is null
            && entries.All(e => e.State == EntityState.Unchanged || e is { State: EntityState.Added, Entity: OpenIddictEntityFrameworkCoreToken<Guid> }))
        {
            var rows = entries.Where(e => e.State == EntityState.Added).ToList();
            await writer.WriteAsync(rows.Select(e => (OpenIddictEntityFrameworkCoreToken<Guid>)e.Entity).ToList(), db);
            foreach (var row in rows) row.State = EntityState.Unchanged;
            return;
        }
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
