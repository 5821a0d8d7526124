using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

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

/// <summary>
/// The provider and its connection string stop start-up, naming the key, before anything opens a connection: a string
/// the provider cannot parse ended start-up with the provider's own words ("Couldn't set data source") and no key.
/// </summary>
internal sealed class DatabaseOptionsValidator(IConfiguration configuration) : IValidateOptions<DatabaseOptions>
{
    private const string ProviderKey = $"{DatabaseOptions.SectionName}:{nameof(DatabaseOptions.Provider)}";
    private const string ConnectionStringKey = $"ConnectionStrings:{DatabaseOptions.ConnectionStringName}";

    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        // The binder takes an enum's number as well as its name: 5 ran on SQLite, 1 would have meant Postgres.
        if (configuration[ProviderKey] is { } provider && !Enum.GetNames<DatabaseProvider>().Contains(provider.Trim(), StringComparer.OrdinalIgnoreCase))
            return ValidateOptionsResult.Fail($"{ProviderKey} must be {string.Join(" or ", Enum.GetNames<DatabaseProvider>())}.");
        var connectionString = PersistenceRegistration.ConnectionString(configuration);
        try
        {
            if (options.Provider == DatabaseProvider.Postgres)
            {
                _ = new NpgsqlConnectionStringBuilder(connectionString);
                return ValidateOptionsResult.Success;
            }
            var sqlite = new SqliteConnectionStringBuilder(connectionString);
            // An empty or in-memory SQLite database is a new, empty one on every connection: the server migrated one and
            // then waited for ever on "migrations not applied".
            return sqlite.DataSource is { Length: > 0 } file && file != ":memory:" && sqlite.Mode != SqliteOpenMode.Memory
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{ConnectionStringKey} must name a SQLite database file (e.g. {DatabaseOptions.DefaultConnectionString}), not an empty or in-memory one.");
        }
        catch (ArgumentException problem)
        {
            // The usual slip: Database:Provider=Postgres with the default, which is SQLite's.
            var hint = connectionString == DatabaseOptions.DefaultConnectionString ? $" (it is the default, {DatabaseOptions.DefaultConnectionString}, SQLite's)" : "";
            return ValidateOptionsResult.Fail($"{ConnectionStringKey} is not a connection string for {ProviderKey}={options.Provider}{hint}: {problem.Message}");
        }
    }
}
