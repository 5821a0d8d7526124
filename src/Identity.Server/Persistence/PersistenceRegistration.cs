using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Server.Persistence;

internal static partial class PersistenceRegistration
{
    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName).ValidateOnStart();
        // Resolved lazily, so that configuration added by a test host or the command line is seen.
        builder.Services.AddDbContextPool<ServerDbContext>((services, options) =>
        {
            var provider = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider;
            var connectionString = services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName)
                ?? DatabaseOptions.DefaultConnectionString;
            if (provider == DatabaseProvider.Postgres)
                options.UseNpgsql(BoundedTimeouts(connectionString));
            else
                options.UseSqlite(connectionString);
        });
        builder.Services.AddScoped<DatabaseMigrator>();
        return builder;
    }

    /// <summary>
    /// SPEC §6 wants a 503 within seconds when the database is gone, so connection attempts get a short default
    /// (Npgsql's is 15 s) unless the operator set one.
    /// </summary>
    internal static string BoundedTimeouts(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!TimeoutKey().IsMatch(connectionString)) builder.Timeout = 5;
        if (!CommandTimeoutKey().IsMatch(connectionString)) builder.CommandTimeout = 15;
        return builder.ConnectionString;
    }

    [GeneratedRegex(@"(^|;)\s*timeout\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex TimeoutKey();

    [GeneratedRegex(@"(^|;)\s*command\s*timeout\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex CommandTimeoutKey();
}
