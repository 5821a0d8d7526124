using System.Text;
using Identity.Server.Accounts.Contracts;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Formatters;
using Microsoft.AspNetCore.Mvc.ModelBinding.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

internal static class AccountsRegistration
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AccountsOptions>, AccountsOptionsValidator>();

        services.AddIdentityCore<ApplicationUser>()
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<ServerDbContext>()
            .AddDefaultTokenProviders();
        services.AddOptions<IdentityOptions>().Configure<IOptions<AccountsOptions>>((identity, accounts) =>
        {
            var a = accounts.Value;
            identity.User.RequireUniqueEmail = true;
            // A user name chosen by the person is held to UserNames.Pattern by the API; one not chosen is the email
            // address, which MailboxAttribute has checked and which may hold what Identity's default set lacks
            // (o'brien@…, jörg@…). Identity's own character check would refuse those people with a userName error.
            identity.User.AllowedUserNameCharacters = "";
            // identity.Password is not read: PasswordPolicy replaces Identity's PasswordValidator (see below).
            // New users can be locked out; LockoutCounter counts and locks from Accounts:Lockout (UserManager's own
            // counting, which read identity.Lockout's other settings, is not used).
            identity.Lockout.AllowedForNewUsers = true;
            identity.SignIn.RequireConfirmedEmail = a.RequireConfirmedEmail;
        });
        // ASP.NET Core Identity's V3 format is PBKDF2-HMAC-SHA512; a hash with fewer iterations than configured is
        // reported as "rehash needed" and upgraded by UserManager on the next successful check.
        services.AddOptions<PasswordHasherOptions>().Configure<IOptions<AccountsOptions>>((hasher, accounts) =>
        {
            hasher.CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3;
            hasher.IterationCount = accounts.Value.Password.HashIterations;
        });
        services.AddSingleton<DummyPassword>();
        services.AddSingleton<PasswordHashingQueue>();
        services.AddScoped<PasswordHashes>();
        services.AddSingleton<CommonPasswords>();
        // Instead of Identity's validator, which counts UTF-16 units and knows only composition rules (ASVS 5 §6.2.5
        // asks for none): PasswordPolicy alone decides.
        services.AddScoped<PasswordPolicy>();
        services.Replace(ServiceDescriptor.Scoped<IPasswordValidator<ApplicationUser>>(provider => provider.GetRequiredService<PasswordPolicy>()));
        services.AddSingleton<EmailRateLimiter>();
        services.AddScoped<LockoutCounter>();
        services.AddScoped<NewPasswords>();
        services.AddScoped<SignInPolicy>();
        services.AddSingleton<SignInEligibility>();
        services.AddScoped<AccountTokens>();
        services.AddSingleton<AccountEmails>();
        services.AddScoped<ProfileReader>();
        services.AddScoped<RegistrationHandler>();
        services.AddScoped<EmailConfirmationHandler>();
        services.AddScoped<ChangePasswordHandler>();
        services.AddScoped<PasswordResetHandler>();
        services.AddScoped<ProfileHandler>();
        // What CheckEveryField asks, by the request's type, when a request's attributes have refused a field.
        services.AddKeyedScoped<IInputCheck>(typeof(RegisterRequest), (provider, _) => provider.GetRequiredService<RegistrationHandler>());
        services.AddKeyedScoped<IInputCheck>(typeof(ChangePasswordRequest), (provider, _) => provider.GetRequiredService<ChangePasswordHandler>());
        services.AddKeyedScoped<IInputCheck>(typeof(ResetPasswordRequest), (provider, _) => provider.GetRequiredService<PasswordResetHandler>());
        services.AddKeyedScoped<IInputCheck>(typeof(UpdateProfileRequest), (provider, _) => provider.GetRequiredService<ProfileHandler>());
        // Validation errors are keyed by the members as clients send them ("email", not the property's "Email"), as the
        // errors the handlers find are.
        services.AddControllers(mvc => mvc.ModelMetadataDetailsProviders.Add(new SystemTextJsonValidationMetadataProvider()))
            .ConfigureApplicationPartManager(parts => parts.FeatureProviders.Add(new InternalControllerFeatureProvider()))
            // SPEC §3: a member given twice ({"email":"a@x","email":"b@x"}) is a 400 naming it, not "the last one wins",
            // System.Text.Json's default. Names match without regard to case here, so "email" and "Email" are one member.
            .AddJsonOptions(json => json.JsonSerializerOptions.AllowDuplicateProperties = false)
            // RFC 8259 §8.1: JSON exchanged between systems MUST be UTF-8. A body declared in another charset is a 415, as
            // ISO-8859-1 already was, instead of being transcoded from UTF-16, whose undecodable bytes (an odd count, an
            // unpaired surrogate) end in a DecoderFallbackException and a 500.
            .AddMvcOptions(mvc =>
            {
                mvc.Filters.Add<RejectRepeatedOrInvalidJson>();
                mvc.Filters.Add<RejectRepeatedQueryParameters>();
                // An instance, so that its own order counts (added by type, a filter's order is the collection's 0).
                mvc.Filters.Add(new CheckEveryField());
                foreach (var json in mvc.InputFormatters.OfType<SystemTextJsonInputFormatter>())
                    foreach (var encoding in json.SupportedEncodings.Where(e => e.CodePage != Encoding.UTF8.CodePage).ToList())
                        json.SupportedEncodings.Remove(encoding);
            })
            .ConfigureApiBehaviorOptions(api =>
            {
                api.InvalidModelStateResponseFactory = InvalidInput.Problem;
                // The statuses the framework has no type and title for, which ExceptionHandling answers.
                api.ClientErrorMapping[StatusCodes.Status413PayloadTooLarge] = new() { Link = "https://tools.ietf.org/html/rfc9110#section-15.5.14", Title = "Content Too Large" };
                api.ClientErrorMapping[StatusCodes.Status503ServiceUnavailable] = new() { Link = "https://tools.ietf.org/html/rfc9110#section-15.6.4", Title = "Service Unavailable" };
            });
        // /openapi/v1.json describes the account API; the protocol endpoints are described by discovery and their RFCs.
        services.AddOpenApi(options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer<BearerSecurityScheme>();
            options.AddOperationTransformer<BearerSecurityScheme>();
        });
        return builder;
    }

    /// <summary>The self-service roles exist before anyone registers, so that registrations never race to create them.</summary>
    public static Task EnsureSelfServiceRolesAsync(IServiceProvider services, CancellationToken ct) =>
        EnsureRolesAsync(services, services.GetRequiredService<IOptions<AccountsOptions>>().Value.SelfServiceRoles, ct);

    /// <summary>Creates the roles that are missing; every node does this at start, so several may at once.</summary>
    internal static async Task EnsureRolesAsync(IServiceProvider services, IEnumerable<string> names, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in names)
        {
            if (await roles.RoleExistsAsync(role)) continue;
            try
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
            catch (DbUpdateException exception)
            {
                // Another node created it between the look above and this insert: the unique name refused ours.
                // Anything else stands.
                RefusedRows.Forget(exception);
                if (!UniqueViolation.Is(exception) || !await roles.RoleExistsAsync(role)) throw;
            }
        }
    }
}
