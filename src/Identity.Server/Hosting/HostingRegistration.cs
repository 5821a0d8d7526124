using Identity.Server.Protocol;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Identity.Server.Hosting;

internal static class HostingRegistration
{
    /// <summary>Form values this large are never legitimate here; 64 KB still fits any id_token_hint.</summary>
    public const int MaxFormValueLength = 64 * 1024;
    public const long MaxRequestBodySize = 1024 * 1024;

    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        AddConsole(builder.Logging, builder.Environment);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodySize;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.Services.Configure<FormOptions>(form =>
        {
            form.ValueLengthLimit = MaxFormValueLength;
            form.ValueCountLimit = 256;
            form.KeyLengthLimit = 256;
        });
        // A year, this host only: subdomains may be other teams' sites, and preloading is the operator's decision.
        builder.Services.AddHsts(hsts => hsts.MaxAge = TimeSpan.FromDays(365));
        builder.Services.AddProblemDetails();
        builder.Services.AddRazorPages().AddMvcOptions(mvc =>
        {
            mvc.Filters.Add<Pages.ShowExpiredForms>();
            mvc.Filters.Add<Pages.RefuseRepeatedParameters>();
        });
        // Lax, not the framework's Strict: a Strict cookie stays off a top-level arrival from another site (a client's
        // redirect to the login page, a link in webmail), a new one is issued, and every form open in another tab
        // fails its check. It is still off every cross-site POST, and the token in the form is still checked.
        builder.Services.AddAntiforgery(antiforgery => antiforgery.Cookie.SameSite = SameSiteMode.Lax);
        builder.Services.AddOptions<AntiforgeryOptions>().Configure<IOptions<ProtocolOptions>>(
            (antiforgery, protocol) => HostOnlyCookies.Apply(antiforgery.Cookie, "antiforgery", protocol.Value));
        return builder.AddHealth();
    }

    /// <summary>One line per entry in Development, JSON lines elsewhere (for the log collector).</summary>
    internal static void AddConsole(ILoggingBuilder logging, IHostEnvironment environment)
    {
        if (environment.IsDevelopment())
            logging.AddSimpleConsole(o => o.SingleLine = true);
        else
            logging.AddJsonConsole();
    }

    /// <summary>
    /// Runs every ValidateOnStart check now: migrations, client seeding and key creation come before the host starts
    /// and must not run on a configuration that would have been refused.
    /// </summary>
    public static void ValidateOptions(this WebApplication app) => app.Services.GetService<IStartupValidator>()?.Validate();

    /// <summary>HEAD for the read-only resources that only answer GET (HeadAsGet); must come before routing.</summary>
    public static void UseHeadAsGet(this WebApplication app) => app.UseMiddleware<HeadAsGet>();

    /// <summary>
    /// Outside Development, HTTPS answers carry Strict-Transport-Security: a browser that once reached the login page
    /// over HTTPS never again sends the person's password towards a plain-HTTP address of it (a downgrade by whoever is
    /// on the network). ASP.NET leaves it off for localhost. Then the headers every response gets (SecurityHeaders).
    /// </summary>
    public static void UseSecurityHeaders(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment()) app.UseHsts();
        app.UseMiddleware<SecurityHeaders>();
    }
}
