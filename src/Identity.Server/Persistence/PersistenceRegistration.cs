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
        // The provider decides the context type (each has its own migrations), so it is read here; the connection
        // string is resolved lazily, so that configuration added by a test host or the command line is seen.
        if (ProviderOf(builder.Configuration) == DatabaseProvider.Postgres)
            builder.Services.AddDbContextPool<ServerDbContext, PostgresServerDbContext>((services, options) => Configure(options, services, shared: false));
        else
            builder.Services.AddDbContextPool<ServerDbContext, SqliteServerDbContext>((services, options) => Configure(options, services, shared: false));
        builder.Services.AddSingleton<SharedReads>();
        builder.Services.AddScoped<DatabaseMigrator>();
        return builder;
    }

    /// <param name="shared">
    /// On PostgreSQL, whether statements share physical connections (Npgsql multiplexing). See <see cref="Tuned"/>.
    /// </param>
    internal static void Configure(DbContextOptionsBuilder options, IServiceProvider services, bool shared)
    {
        var provider = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider;
        var connectionString = ConnectionString(services);
        if (provider == DatabaseProvider.Postgres)
            options.UseNpgsql(Tuned(connectionString, shared));
        else
            options.UseSqlite(connectionString);
    }

    public static DatabaseProvider ProviderOf(IConfiguration configuration) =>
        configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;

    public static string ConnectionString(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName) ?? DatabaseOptions.DefaultConnectionString;

    /// <summary>
    /// Defaults for what the operator did not set. SPEC §6 wants a 503 within seconds when the database is gone, so
    /// connection attempts time out after 5 s (Npgsql: 15 s). The server keeps no session state on a connection, so
    /// the reset on every return to the pool is skipped, and the few hot statements are prepared once per connection.
    /// </summary>
    /// <param name="shared">
    /// Multiplexing: concurrent requests' statements are pipelined over a few physical connections instead of each
    /// request holding one, which cuts round trips, syscalls and PostgreSQL backend wake-ups per statement (on the
    /// 2-vCPU bench, introspection went from ~4,000/s to ~7,000/s and the database's CPU per request fell by two
    /// thirds). The cap on physical connections is what makes statements share them, so it is small by default.
    /// Only for single statements outside transactions (<see cref="SharedReads"/>): a transaction needs a physical
    /// connection to itself, and waits for one to fall idle, which under load it may not do for a long time (100
    /// concurrent client_credentials grants and introspections stalled for over a minute when the token writes shared
    /// the pool); nor may anything on it use synchronous calls, session state or long statements.
    /// </param>
    internal static string Tuned(string connectionString, bool shared = false)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Key("timeout").IsMatch(connectionString)) builder.Timeout = 5;
        if (!Key("command timeout").IsMatch(connectionString)) builder.CommandTimeout = 15;
        if (!Key("no reset on close").IsMatch(connectionString)) builder.NoResetOnClose = true;
        if (!Key("max auto prepare").IsMatch(connectionString)) builder.MaxAutoPrepare = 64;
        // The ordinary pool never multiplexes, whatever the connection string says: it carries the transactions.
        if (!shared) builder.Multiplexing = false;
        else if (!Key("multiplexing").IsMatch(connectionString)) builder.Multiplexing = true;
        if (shared && builder.Multiplexing && !Key("maximum pool size").IsMatch(connectionString))
            builder.MaxPoolSize = SharedConnections;
        return builder.ConnectionString;
    }

    /// <summary>Physical connections per node when they are shared: enough to keep PostgreSQL's cores busy.</summary>
    internal static int SharedConnections => Math.Max(8, 4 * Environment.ProcessorCount);

    private static Regex Key(string name) => new($@"(^|;)\s*{name.Replace(" ", @"\s*")}\s*=", RegexOptions.IgnoreCase);
}
