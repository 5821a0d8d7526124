namespace Identity.Server.Persistence;

/// <summary>Section "Database" (SPEC §5).</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";
    public const string ConnectionStringName = "Identity";
    public const string DefaultConnectionString = "Data Source=identity.db";

    /// <summary><c>Sqlite</c> (default, embedded) or <c>Postgres</c>.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply pending migrations when the server starts. Default true; turn off to run <c>migrate</c> as a separate step.</summary>
    public bool MigrateOnStartup { get; set; } = true;
}

public enum DatabaseProvider { Sqlite, Postgres }
