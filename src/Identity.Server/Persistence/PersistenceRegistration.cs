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
        // Resolved lazily, so that configuration added by a test host or the command line is seen.
        builder.Services.AddDbContextPool<ServerDbContext>((services, options) =>
        {
            var provider = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider;
            var connectionString = ConnectionString(services);
            if (provider == DatabaseProvider.Postgres)
                options.UseNpgsql(Tuned(connectionString));
            else
                options.UseSqlite(connectionString);
        });
        builder.Services.AddScoped<DatabaseMigrator>();
        return builder;
    }

    public static string ConnectionString(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName) ?? DatabaseOptions.DefaultConnectionString;

    /// <summary>
    /// Defaults for what the operator did not set. SPEC §6 wants a 503 within seconds when the database is gone, so
    /// connection attempts time out after 5 s (Npgsql: 15 s). The server keeps no session state on a connection, so
    /// the reset on every return to the pool is skipped, and the few hot statements are prepared once per connection.
    /// </summary>
    internal static string Tuned(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Key("timeout").IsMatch(connectionString)) builder.Timeout = 5;
        if (!Key("command timeout").IsMatch(connectionString)) builder.CommandTimeout = 15;
        if (!Key("no reset on close").IsMatch(connectionString)) builder.NoResetOnClose = true;
        if (!Key("max auto prepare").IsMatch(connectionString)) builder.MaxAutoPrepare = 64;
        return builder.ConnectionString;
    }

    private static Regex Key(string name) => new($@"(^|;)\s*{name.Replace(" ", @"\s*")}\s*=", RegexOptions.IgnoreCase);
}
