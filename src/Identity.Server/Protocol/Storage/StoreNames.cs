using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Identity.Server.Protocol.Storage;

/// <summary>The quoted table and column names EF's model gives an entity, for the statements we write by hand.</summary>
internal static class StoreNames
{
    public static string Table(IEntityType entity) =>
        entity.GetSchema() is { } schema ? $"\"{schema}\".\"{entity.GetTableName()}\"" : $"\"{entity.GetTableName()}\"";

    public static string Column(IEntityType entity, string property) =>
        $"\"{entity.FindProperty(property)!.GetColumnName(StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema()))}\"";
}
