namespace Identity.Server.Persistence;

/// <summary>
/// Quartz.NET ships the DDL of its ADO.NET job store inside its assembly, for its own version. The PostgreSQL
/// migration that adds the job store runs that script with our table prefix, so the tables match the package that
/// reads them (Quartz validates them when the scheduler starts) without a hand-copied schema that could fall behind.
/// </summary>
internal static class QuartzSchema
{
    private const string Resource = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";

    public static string Postgres(string prefix)
    {
        using var stream = typeof(Quartz.IScheduler).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The Quartz package no longer embeds {Resource}; write its schema into a migration.");
        using var reader = new StreamReader(stream);
        // {0} is the prefix as written, {1} the same without a schema qualifier (for index and constraint names).
        return reader.ReadToEnd().Replace("{0}", prefix).Replace("{1}", prefix[(prefix.LastIndexOf('.') + 1)..]);
    }
}
