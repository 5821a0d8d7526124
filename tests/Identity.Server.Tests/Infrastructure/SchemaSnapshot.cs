using System.Data.Common;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>Reads a database's tables, columns, indexes and constraints as comparable text lines.</summary>
public static class SchemaSnapshot
{
    private const string Excluded = "'__EFMigrationsHistory'";

    public static async Task<List<string>> PostgresAsync(DbConnection connection) =>
        await LinesAsync(connection, $"""
            SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
                   || ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '')
              FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> {Excluded} AND table_name NOT LIKE 'qrtz%'
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes
             WHERE schemaname = 'public' AND tablename <> {Excluded} AND tablename NOT LIKE 'qrtz%'
            UNION ALL
            SELECT 'constraint ' || c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
              FROM pg_constraint c
             WHERE c.connamespace = 'public'::regnamespace AND c.conrelid::regclass::text NOT IN ({Excluded}, '"__EFMigrationsHistory"')
               AND c.conrelid::regclass::text NOT LIKE 'qrtz%'
            ORDER BY 1
            """);

    public static async Task<List<string>> SqliteAsync(DbConnection connection) =>
        await LinesAsync(connection, $"""
            SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p."notnull" || ' pk=' || p.pk || ' default=' || coalesce(p.dflt_value, '')
              FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT IN ({Excluded}, '__EFMigrationsLock')
            UNION ALL
            SELECT 'index ' || m.name || ' ' || il.name || ' unique=' || il."unique" || ' partial=' || il.partial || ' ('
                   || (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii) || ')'
              FROM sqlite_master m JOIN pragma_index_list(m.name) il
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT IN ({Excluded}, '__EFMigrationsLock')
            UNION ALL
            SELECT 'foreign key ' || m.name || '.' || f."from" || ' -> ' || f."table" || '.' || f."to" || ' ' || f.on_delete
              FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
            ORDER BY 1
            """);

    private static async Task<List<string>> LinesAsync(DbConnection connection, string sql)
    {
        if (connection.State != System.Data.ConnectionState.Open) await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }
}
