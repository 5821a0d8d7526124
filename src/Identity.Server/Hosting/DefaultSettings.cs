using Microsoft.Extensions.Configuration.Memory;

namespace Identity.Server.Hosting;

/// <summary>
/// SPEC §5's defaults hold wherever and however the server is started: they are in code, per environment, as the
/// configuration source every other one overrides (appsettings*.json, environment variables, the command line), so
/// the settings files may be empty or missing. The files that are there are read from the application's own folder,
/// not from the working directory.
/// </summary>
internal static class DefaultSettings
{
    /// <summary>The content root is the application's folder (where appsettings*.json are published), whatever the working directory.</summary>
    public static WebApplicationOptions Options(string[] args) => new() { Args = args, ContentRootPath = AppContext.BaseDirectory };

    public static WebApplicationBuilder AddDefaultSettings(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = For(builder.Environment) });
        // A build's output (bin/) holds no wwwroot: static files come from the project through the static web assets
        // manifest beside the binary. Development does this by itself; a published app has no manifest, and this does nothing.
        if (!builder.Environment.IsDevelopment()) builder.WebHost.UseStaticWebAssets();
        return builder;
    }

    public static IReadOnlyDictionary<string, string?> For(IHostEnvironment environment)
    {
        var settings = new Dictionary<string, string?>(Everywhere);
        if (environment.IsDevelopment())
            foreach (var (key, value) in Development) settings[key] = value;
        return settings;
    }

    private static readonly Dictionary<string, string?> Everywhere = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
        ["Logging:LogLevel:Quartz"] = "Warning",
        // OpenIddict writes three Information lines per protocol request (the request's parameters, a user name
        // among them, and the response's claims): a fifth of an introspection's CPU, and personal data in the log.
        // Refusals are still logged, by us (Protocol/Transport/LogRefusals, and event 2001 for the grants).
        ["Logging:LogLevel:OpenIddict"] = "Warning",
        ["AllowedHosts"] = "*",
        ["Database:Provider"] = "Sqlite",
        // Relative to the working directory (SQLite's rule): `dotnet run --project src/Identity.Server` puts it in the project folder.
        ["ConnectionStrings:Identity"] = Persistence.DatabaseOptions.DefaultConnectionString,
        // Here, not in AccountsOptions: configured roles replace it (Accounts:SelfServiceRoles:0=customer leaves "user" out).
        ["Accounts:SelfServiceRoles:0"] = "user",
    };

    /// <summary>
    /// SPEC §5: plain HTTP on localhost, and a public client for a local SPA. The client is keyed by name, not by index 0:
    /// configuration merges lists entry by entry, so an operator's first client, declared at index 0, took every setting
    /// it did not name from the SPA's (its redirect URI, the code grant, RequireConsent=false), and the SPA was gone.
    /// </summary>
    private static readonly Dictionary<string, string?> Development = new()
    {
        ["Identity:Issuer"] = "http://localhost:5000/",
        ["Identity:RequireHttps"] = "false",
        ["Identity:Clients:spa:ClientId"] = "spa",
        ["Identity:Clients:spa:DisplayName"] = "Development SPA",
        ["Identity:Clients:spa:Type"] = "public",
        ["Identity:Clients:spa:AllowedGrantTypes:0"] = "password",
        ["Identity:Clients:spa:AllowedGrantTypes:1"] = "refresh_token",
        ["Identity:Clients:spa:AllowedGrantTypes:2"] = "authorization_code",
        ["Identity:Clients:spa:AllowedScopes:0"] = "openid",
        ["Identity:Clients:spa:AllowedScopes:1"] = "profile",
        ["Identity:Clients:spa:AllowedScopes:2"] = "email",
        ["Identity:Clients:spa:AllowedScopes:3"] = "offline_access",
        ["Identity:Clients:spa:AllowedScopes:4"] = "roles",
        ["Identity:Clients:spa:RedirectUris:0"] = "http://localhost:5173/callback",
        ["Identity:Clients:spa:PostLogoutRedirectUris:0"] = "http://localhost:5173/",
        ["Identity:Clients:spa:AllowedCorsOrigins:0"] = "http://localhost:5173",
        ["Identity:Clients:spa:RequireConsent"] = "false",
    };
}
