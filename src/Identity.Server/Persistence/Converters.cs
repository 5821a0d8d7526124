using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Identity.Server.Persistence;

internal sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
    value => value.ToUnixTimeMilliseconds(),
    value => DateTimeOffset.FromUnixTimeMilliseconds(value));

/// <summary>Scopes, URIs and origins contain no spaces, so a space-separated column is portable and readable.</summary>
internal sealed class SpaceSeparatedConverter() : ValueConverter<string[], string>(
    value => Join(value),
    value => value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
{
    /// <summary>The stored form, for the writes that bypass EF Core.</summary>
    public static string Join(string[] value) => string.Join(' ', value);
}

internal sealed class SpaceSeparatedComparer() : ValueComparer<string[]>(
    (a, b) => a == null ? b == null : b != null && a.SequenceEqual(b),
    value => value.Aggregate(0, (hash, item) => HashCode.Combine(hash, item.GetHashCode())),
    value => value.ToArray());
