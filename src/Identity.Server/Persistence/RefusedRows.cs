using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Persistence;

/// <summary>
/// A refused <c>SaveChanges</c> leaves the rows it tried to write in the context, and the context's next save would try
/// them again and be refused with them: a write that lost a race must forget its rows before the scope writes anything else.
/// </summary>
internal static class RefusedRows
{
    public static void Forget(DbUpdateException exception)
    {
        foreach (var entry in exception.Entries) entry.State = EntityState.Detached;
    }
}
