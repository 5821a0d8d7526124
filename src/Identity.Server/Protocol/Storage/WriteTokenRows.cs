using Identity.Server.Persistence;
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
/// client receives always has its row. A refresh's rows are already written by then: CaptureRefreshSuccessor saves
/// them with the successor, in the rotation's transaction. A sign-in that ends early (rejected, or answered from a
/// replay) writes nothing, and issues nothing.
/// </summary>
internal sealed class WriteTokenRows(TokenWrites writes, ServerDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
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
        if (db.ChangeTracker.HasChanges()) await db.SaveChangesAsync(context.CancellationToken);
    }
}
