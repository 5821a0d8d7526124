using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Authorize;
using Identity.Server.Protocol.Bearer;
using Identity.Server.Protocol.EndSession;
using Identity.Server.Protocol.Introspection;
using Identity.Server.Protocol.Revocation;
using Identity.Server.Protocol.UserInfo;
using Microsoft.AspNetCore.Authentication;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Discovery;
using Identity.Server.Protocol.Transport;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Token;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol;

internal static class ProtocolRegistration
{
    public static WebApplicationBuilder AddProtocol(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ProtocolOptions>().BindConfiguration(ProtocolOptions.SectionName).ValidateOnStart();
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();
        services.AddOptions<List<ClientDefinition>>().BindConfiguration("Identity:Clients").ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<ClientDefinition>>, ClientDefinitionValidator>();
        services.AddOptions<List<ScopeDefinition>>().BindConfiguration("Identity:Scopes").ValidateOnStart();
        services.AddOptions<PasswordGrantRateLimitOptions>().BindConfiguration(PasswordGrantRateLimitOptions.SectionName).ValidateOnStart();

        services.AddHttpContextAccessor();
        services.AddSingleton<ScopeCatalog>();
        services.AddSingleton<ClientStore>();
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<ClientRequests>();
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<PasswordGrantRateLimiter>();
        services.AddSingleton<IssuerUri>();
        services.AddScoped<ClientSeeder>();
        services.AddScoped<TokenIssuer>();
        services.AddScoped<TokenFamilies>();
        services.AddSingleton<TokenRecords>();
        services.AddSingleton<TokenRowWriter>();
        // Keyed by grant type, so that a request builds only its own handler and that handler's dependencies.
        services.AddKeyedScoped<ITokenGrantHandler, PasswordGrantHandler>(GrantTypes.Password);
        services.AddKeyedScoped<ITokenGrantHandler, RefreshTokenGrantHandler>(GrantTypes.RefreshToken);
        services.AddKeyedScoped<ITokenGrantHandler, ClientCredentialsGrantHandler>(GrantTypes.ClientCredentials);
        services.AddKeyedScoped<ITokenGrantHandler, AuthorizationCodeGrantHandler>(GrantTypes.AuthorizationCode);
        services.AddSingleton<AuthorizeRequestValidator>();
        services.AddScoped<AuthorizationCodes>();
        services.AddScoped<AuthorizeEndpoint>();
        services.AddScoped<EndSessionEndpoint>();
        services.AddScoped<TokenEndpoint>();
        services.AddSingleton<DiscoveryEndpoint>();
        services.AddSingleton<JwksEndpoint>();
        services.AddScoped<AccessTokenValidator>();
        services.AddScoped<PresentedTokens>();
        services.AddScoped<RevocationHandler>();
        services.AddScoped<RevocationEndpoint>();
        services.AddScoped<IntrospectionHandler>();
        services.AddScoped<IntrospectionEndpoint>();
        services.AddScoped<UserInfoEndpoint>();

        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null)
            .AddPeopleSessions();
        services.AddAuthorizationBuilder()
            .AddPolicy(BearerPolicies.OpenId, policy => policy.AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser().RequireClaim("scope", "openid"))
            .AddPolicy(BearerPolicies.User, policy => policy.AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser().RequireClaim("token_use", "user"));
        return builder;
    }

    public static IApplicationBuilder UseProtocolGuards(this IApplicationBuilder app) => app.UseMiddleware<ProtocolGuards>();

    public static void MapProtocol(this WebApplication app)
    {
        app.MapPost("/connect/token", (TokenEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct));
        app.MapGet("/.well-known/openid-configuration", (DiscoveryEndpoint endpoint, HttpContext http) => endpoint.Handle(http));
        app.MapGet("/.well-known/oauth-authorization-server", (DiscoveryEndpoint endpoint, HttpContext http) => endpoint.Handle(http));
        app.MapGet("/.well-known/jwks", (JwksEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct));
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post],
            (AuthorizeEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct)).DisableAntiforgery();
        app.MapMethods("/connect/endsession", [HttpMethods.Get, HttpMethods.Post],
            (EndSessionEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct)).DisableAntiforgery();
        app.MapPost("/connect/revoke", (RevocationEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct));
        app.MapPost("/connect/introspect", (IntrospectionEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct));
        app.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post],
                (UserInfoEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct))
            .RequireAuthorization(BearerPolicies.OpenId);
    }

    /// <summary>
    /// Start-up work that needs the schema: declared clients and a signing key before the first request. When the
    /// migrations are left to a separate <c>migrate</c> step that has not run yet, it waits for them in the background.
    /// </summary>
    public static async Task PrepareProtocolAsync(this WebApplication app)
    {
        if (await ProtocolStartup.TryPrepareAsync(app.Services, CancellationToken.None)) return;
        app.Logger.ProtocolStartupDeferred();
        _ = Task.Run(async () =>
        {
            var stopping = app.Lifetime.ApplicationStopping;
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), stopping);
                    if (await ProtocolStartup.TryPrepareAsync(app.Services, stopping)) return;
                }
                catch (OperationCanceledException) { return; }
                catch (Exception exception) when (Hosting.DatabaseFaults.IsUnavailable(exception)) { }
            }
        });
    }
}

internal static class ProtocolStartup
{
    public static async Task<bool> TryPrepareAsync(IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        if ((await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().PendingAsync(ct)).Count > 0) return false;
        await scope.ServiceProvider.GetRequiredService<ClientSeeder>().SeedAsync(ct);
        await Accounts.AccountsRegistration.EnsureSelfServiceRolesAsync(services, ct);
        await services.GetRequiredService<SigningKeyStore>().GetAsync(ct);
        return true;
    }
}
