using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Persistence;

internal static class PersistenceRegistration
{
    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        // The provider decides the context type (each has its own migrations), so it is read here; the connection
        // string is resolved lazily, so that configuration added by a test host or the command line is seen.
        if (ProviderOf(builder.Configuration) == DatabaseProvider.Postgres)
            builder.Services.AddDbContextPool<ServerDbContext, PostgresServerDbContext>((services, options) => Configure(options, services));
        else
            builder.Services.AddDbContextPool<ServerDbContext, SqliteServerDbContext>((services, options) => Configure(options, services));
        builder.Services.AddScoped<DatabaseMigrator>();
        builder.Services.AddSingleton<MultiplexedReads>();
        builder.Services.AddSingleton<RowIds>();
        return builder;
    }

    internal static void Configure(DbContextOptionsBuilder options, IServiceProvider services)
    {
        var provider = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider;
        var connectionString = ConnectionString(services);
        if (provider == DatabaseProvider.Postgres)
            options.UseNpgsql(Tuned(connectionString));
        else
            options.UseSqlite(connectionString);
    }

    public static DatabaseProvider ProviderOf(IConfiguration configuration) =>
        configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;

    public static string ConnectionString(IServiceProvider services) => ConnectionString(services.GetRequiredService<IConfiguration>());

    internal static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(DatabaseOptions.ConnectionStringName) ?? DatabaseOptions.DefaultConnectionString;

    /// <summary>
    /// Defaults for what the operator did not set. SPEC §6 wants a 503 within seconds when the database is gone, so
    /// connection attempts time out after 5 s (Npgsql: 15 s), and so do statements (Npgsql: 30 s): a request's take
    /// milliseconds, and against a database that stopped answering (a partition, a frozen host) they are what the
    /// request waits for. Long work sets its own (<see cref="LongWork"/>). The server keeps no session state on a
    /// connection, so the reset on every return to the pool is skipped, and the few hot statements are prepared once
    /// per connection. The single-row reads outside transactions have a multiplexed pool of their own
    /// (<see cref="MultiplexedReads"/>).
    /// </summary>
    internal static string Tuned(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Key("timeout").IsMatch(connectionString)) builder.Timeout = 5;
        if (!Key("command timeout").IsMatch(connectionString)) builder.CommandTimeout = 5;
        // Npgsql cancels a statement that timed out on a second connection, and with GSS encryption at its "Prefer" it
        // negotiates that connection twice: against a database that does not answer, two more connection timeouts.
        if (!Key("gss encryption mode").IsMatch(connectionString)) builder.GssEncryptionMode = GssEncryptionMode.Disable;
        if (!Key("no reset on close").IsMatch(connectionString)) builder.NoResetOnClose = true;
        if (!Key("max auto prepare").IsMatch(connectionString)) builder.MaxAutoPrepare = 64;
        // Never multiplexed, whatever the connection string says: the pool carries transactions, and a transaction on
        // a multiplexed pool waits for a physical connection to fall idle (100 concurrent grants stalled for over a
        // minute when tried).
        builder.Multiplexing = false;
        return builder.ConnectionString;
    }

    /// <summary>
    /// Migrations (which also wait on a lock for another node's), the prune job and the command-line verbs: statements
    /// that may run for minutes on large tables, and that no request waits for. Ten minutes each on PostgreSQL, still a
    /// bound for a database that stopped answering; SQLite keeps its 30 s, a wait for the file's write lock.
    /// </summary>
    internal static void LongWork(DbContext db)
    {
        if (db.Database.IsNpgsql()) db.Database.SetCommandTimeout(TimeSpan.FromMinutes(10));
    }

    private static Regex Key(string name) => new($@"(^|;)\s*{name.Replace(" ", @"\s*")}\s*=", RegexOptions.IgnoreCase);
}
