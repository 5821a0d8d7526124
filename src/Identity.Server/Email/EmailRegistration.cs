using Microsoft.Extensions.Options;

namespace Identity.Server.Email;

internal static class EmailRegistration
{
    public static WebApplicationBuilder AddEmail(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        builder.Services.AddScoped<EmailOutbox>();
        builder.Services.AddSingleton<IEmailTransport>(services =>
            string.IsNullOrWhiteSpace(services.GetRequiredService<IOptions<EmailOptions>>().Value.Smtp.Host)
                ? ActivatorUtilities.CreateInstance<PickupDirectoryEmailTransport>(services)
                : ActivatorUtilities.CreateInstance<SmtpEmailTransport>(services));
        return builder;
    }
}
