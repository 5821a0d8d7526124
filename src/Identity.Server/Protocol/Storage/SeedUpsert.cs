using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// Creates or updates one row of configuration through an OpenIddict manager when every node does the same at start,
/// possibly at the same moment, from the same configuration: a lost race is no failure, anything else is.
/// </summary>
internal static class SeedUpsert
{
    public static async Task RunAsync<T>(Func<ValueTask<T?>> find, Func<T, ValueTask> update, Func<ValueTask<object>> create) where T : class
    {
        var existing = await find();
        try
        {
            if (existing is not null)
                await update(existing);
            else
                await create();
        }
        catch (OpenIddictExceptions.ConcurrencyException)
        {
            // Another node updated the same row at the same moment.
        }
        catch (DbUpdateException exception) when (existing is null && UniqueViolation.Is(exception))
        {
            // Another node inserted the same row between OpenIddict's check that its key is free and our insert. The
            // refused row must not ride along with this node's next one.
            RefusedRows.Forget(exception);
        }
        catch (OpenIddictExceptions.ValidationException) when (existing is null)
        {
            // OpenIddict checks that the key is free before inserting: another node's insert between that check and
            // the look above lands here. Any other validation failure stands. The manager asks the store again
            // (OpenIddict's entity cache, which would remember the miss, is off: ProtocolRegistration).
            if (await find() is null) throw;
        }
    }
}
