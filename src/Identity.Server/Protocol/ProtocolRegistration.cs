using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Authorization;
using Identity.Server.Protocol.ClientAuthentication;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Device;
using Identity.Server.Protocol.Dispatch;
using Identity.Server.Protocol.EndSession;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Keys;
using Identity.Server.Protocol.Protection;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Storage;
using Identity.Server.Protocol.Token;
using Identity.Server.Protocol.Token.Rotation;
using Identity.Server.Protocol.Transport;
using Identity.Server.Protocol.UserInfo;
using Identity.Server.Protocol.Validation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol;

internal static class ProtocolRegistration
{
    /// <summary>The protection space named in this server's Basic and Bearer challenges (RFC 7235 §2.2).</summary>
    public const string ProtocolRealm = "Identity Server";

    /// <summary>
    /// An origin: the endpoints are served at the root, and discovery is found at the issuer plus
    /// /.well-known/openid-configuration (OIDC Discovery §4), so an issuer with a path named a server nobody could find.
    /// </summary>
    private static bool IsIssuerUrl(Uri issuer) =>
        issuer.IsAbsoluteUri && (issuer.Scheme == Uri.UriSchemeHttps || issuer.Scheme == Uri.UriSchemeHttp) && issuer.AbsolutePath == "/"
        && issuer.Query.Length == 0 && issuer.Fragment.Length == 0 && !string.IsNullOrEmpty(issuer.Host);

    public static WebApplicationBuilder AddProtocol(this WebApplicationBuilder builder, bool servesRequests)
    {
        var services = builder.Services;
        services.AddOptions<ProtocolOptions>().BindConfiguration(ProtocolOptions.SectionName)
            // OpenIddict refuses such an issuer only on the first request, and then on every one, health probes included.
            .Validate(o => o.Issuer is null || IsIssuerUrl(o.Issuer),
                "Identity:Issuer must be an absolute http or https URL without a path, query or fragment, e.g. https://id.example.com/.")
            // Unset, the issuer is each request's origin: tokens' iss and discovery would follow the Host header, and the
            // links in emails, written by a job with no request, would point at http://localhost:5000/. The CLI verbs
            // (migrate, prune, remove-client) issue nothing and send nothing.
            .Validate(o => o.Issuer is not null || builder.Environment.IsDevelopment() || !servesRequests,
                "Identity:Issuer is required outside Development: it is the iss of every token and the origin of the links in emails, e.g. https://id.example.com/.")
            .ValidateOnStart();
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();
        services.AddOptions<List<ClientDefinition>>().BindConfiguration("Identity:Clients").ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<ClientDefinition>>, ClientDefinitionValidator>();
        services.AddSingleton<IPostConfigureOptions<List<ClientDefinition>>, ClientKeySetBinding>();
        services.AddOptions<List<ScopeDefinition>>().BindConfiguration(ScopeDefinitionValidator.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<ScopeDefinition>>, ScopeDefinitionValidator>();
        // A limit of 0 or less was taken as 1 a minute: everyone behind one address (a NAT, a proxy) locked out.
        services.AddOptions<PasswordGrantRateLimitOptions>().BindConfiguration(PasswordGrantRateLimitOptions.SectionName)
            .Validate(o => o.PerClientPerMinute >= 1, $"{PasswordGrantRateLimitOptions.SectionName}:PerClientPerMinute must be at least 1.")
            .Validate(o => o.PerUserNamePerMinute >= 1, $"{PasswordGrantRateLimitOptions.SectionName}:PerUserNamePerMinute must be at least 1.")
            .Validate(o => o.PerAddressPerMinute >= 1, $"{PasswordGrantRateLimitOptions.SectionName}:PerAddressPerMinute must be at least 1.")
            .ValidateOnStart();
        services.AddOptions<UserCodeRateLimitOptions>().BindConfiguration(UserCodeRateLimitOptions.SectionName)
            .Validate(o => o.PerUserPerMinute >= 1, $"{UserCodeRateLimitOptions.SectionName}:PerUserPerMinute must be at least 1.")
            .Validate(o => o.PerAddressPerMinute >= 1, $"{UserCodeRateLimitOptions.SectionName}:PerAddressPerMinute must be at least 1.")
            .ValidateOnStart();

        PlatformCryptoProviders.Register();
        services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<ServerDbContext>().ReplaceDefaultEntities<Guid>();
                core.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication<Guid>, ApplicationManager>();
                core.ReplaceApplicationStore<OpenIddictEntityFrameworkCoreApplication<Guid>, CachedApplicationStore>();
                core.ReplaceTokenStore<OpenIddictEntityFrameworkCoreToken<Guid>, TokenStore>();
                core.ReplaceAuthorizationStore<OpenIddictEntityFrameworkCoreAuthorization<Guid>, AuthorizationStore>();
                // The stores keep one instance per row and request, and clients per node; OpenIddict's per-request
                // caches only added bookkeeping to every lookup and write (see NoEntityCache).
                core.DisableEntityCaching();
            })
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris(ProtocolPaths.Authorization[1..])
                    .SetTokenEndpointUris(ProtocolPaths.Token[1..])
                    .SetRevocationEndpointUris(ProtocolPaths.Revocation[1..])
                    .SetIntrospectionEndpointUris(ProtocolPaths.Introspection[1..])
                    .SetUserInfoEndpointUris(ProtocolPaths.UserInfo[1..])
                    .SetEndSessionEndpointUris(ProtocolPaths.EndSession[1..])
                    .SetPushedAuthorizationEndpointUris(ProtocolPaths.PushedAuthorization[1..])
                    .SetDeviceAuthorizationEndpointUris(ProtocolPaths.DeviceAuthorization[1..])
                    .SetEndUserVerificationEndpointUris(ProtocolPaths.Verification[1..]);
                server.AllowAuthorizationCodeFlow().AllowClientCredentialsFlow().AllowPasswordFlow().AllowRefreshTokenFlow()
                    .AllowDeviceAuthorizationFlow().AllowTokenExchangeFlow();
                // RFC 9068 access tokens, signed and readable by resource servers; refresh tokens opaque (a random
                // reference, only its hash stored); codes are always opaque.
                server.DisableAccessTokenEncryption();
                server.UseReferenceRefreshTokens();
                server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough()
                    .EnableErrorPassthrough()
                    .SuppressJsonResponseIndentation()
                    // RFC 7617 §2: a Basic challenge carries a realm (OpenIddict writes one only when given one).
                    .SetRealm(ProtocolRealm);
                server.AddOurHandlers();
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                // RFC 6750 §2: the account API takes its access token from the Authorization header only. OpenIddict
                // would also read it from the query string (where it lands in logs and histories) and from a form body.
                validation.UseAspNetCore().SetRealm(ProtocolRealm)
                    .DisableAccessTokenExtractionFromQueryString().DisableAccessTokenExtractionFromBodyForm();
                validation.EnableAuthorizationEntryValidation();
                validation.AddOurHandlers();
            });
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ServerOptionsSetup>();
        // Our handler filters, resolved by OpenIddict's dispatcher like its own.
        services.AddSingleton<RequireRefreshTokenGrant>();
        services.AddSingleton<RequireNoRefreshTokenGrant>();
        services.AddSingleton<RequireAccessTokenInResponse>();
        services.AddSingleton<RequireTokenExchangeGrant>();
        services.AddSingleton<RequireNoTokenExchangeGrant>();
        services.AddSingleton<RequireClientAssertionValidation>();
        services.AddSingleton<RequireDeviceCodeValidation>();
        services.AddSingleton<RequirePushedOrDeviceAuthorizationRequest>();
        // After the local-server integration's own Configure: token entries are checked whatever the token format
        // (it would check them only with reference access tokens everywhere), and the keys are the ring's.
        services.Configure<OpenIddictValidationOptions>(o => o.EnableTokenEntryValidation = true);
        services.AddSingleton<KeyRing>();
        services.AddSingleton<KeyRingLoader>();
        services.AddSingleton<KeyOptionsSetup>();
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>>(sp => sp.GetRequiredService<KeyOptionsSetup>());
        services.AddSingleton<IConfigureOptions<OpenIddictValidationOptions>>(sp => sp.GetRequiredService<KeyOptionsSetup>());
        services.AddSingleton<IPostConfigureOptions<OpenIddictServerOptions>>(sp => sp.GetRequiredService<KeyOptionsSetup>());
        services.AddSingleton<KeyRingChangeTokens>();
        services.AddHealthChecks().AddCheck<KeysHealthCheck>("keys", tags: ["ready"]);
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>>(sp => sp.GetRequiredService<KeyRingChangeTokens>());
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictValidationOptions>>(sp => sp.GetRequiredService<KeyRingChangeTokens>());

        services.AddSingleton(new HandlerIndex(services));
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, IndexedServerDispatcher>());
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictValidationDispatcher, IndexedValidationDispatcher>());
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictApplicationCache<>), typeof(NoEntityCache<>)));
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictAuthorizationCache<>), typeof(NoEntityCache<>)));
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictScopeCache<>), typeof(NoEntityCache<>)));
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictTokenCache<>), typeof(NoEntityCache<>)));

        services.AddScoped<TokenWrites>();
        services.AddScoped<UntrackedRows>();
        services.AddSingleton<TokenRowWriter>();
        services.AddSingleton<TokenQueries>();
        services.AddSingleton<UserQueries>();
        services.AddSingleton<ApplicationSnapshots>();
        services.AddSingleton<ApplicationChanges>();
        services.AddHostedService(sp => sp.GetRequiredService<ApplicationChanges>());
        services.AddSingleton<KeyRingChanges>().AddHostedService(sp => sp.GetRequiredService<KeyRingChanges>());
        services.AddSingleton<AccessTokenEntries>();
        services.AddSingleton<RowChanges>().AddHostedService(sp => sp.GetRequiredService<RowChanges>());
        services.AddHttpContextAccessor();
        services.AddSingleton<IssuerUri>();
        services.AddSingleton<ScopeCatalog>();
        services.AddSingleton<ClientOrigins>();
        services.AddSingleton<PasswordGrantRateLimiter>();
        services.AddSingleton<UserCodeRateLimiter>();
        services.AddScoped<DevicePolls>();
        services.AddScoped<PushedRequests>();
        services.AddScoped<ClientSeeder>();
        services.AddScoped<ScopeSeeder>();
        services.AddScoped<ClientScopes>();
        services.AddScoped<Sessions>();
        services.AddScoped<Consents>();
        services.AddScoped<PresentedGrant>();
        services.AddScoped<RefreshSuccessors>();
        // Keyed by grant type, so that a request builds only its own handler and that handler's dependencies.
        services.AddKeyedScoped<ITokenGrantHandler, PasswordGrantHandler>(GrantTypes.Password);
        services.AddKeyedScoped<ITokenGrantHandler, RefreshTokenGrantHandler>(GrantTypes.RefreshToken);
        services.AddKeyedScoped<ITokenGrantHandler, ClientCredentialsGrantHandler>(GrantTypes.ClientCredentials);
        services.AddKeyedScoped<ITokenGrantHandler, AuthorizationCodeGrantHandler>(GrantTypes.AuthorizationCode);
        services.AddKeyedScoped<ITokenGrantHandler, DeviceCodeGrantHandler>(GrantTypes.DeviceCode);
        services.AddKeyedScoped<ITokenGrantHandler, TokenExchangeGrantHandler>(GrantTypes.TokenExchange);
        services.AddScoped<TokenEndpoint>();
        services.AddScoped<AuthorizationEndpoint>();
        services.AddScoped<EndSessionEndpoint>();
        services.AddScoped<UserInfoEndpoint>();

        services.AddAuthentication().AddPeopleSessions();
        services.AddSingleton<IAuthenticationSchemeProvider, ValidationOffServerEndpoints>();
        services.AddAuthorizationBuilder().AddBearerPolicies();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbidWithInsufficientScope>();
        return builder;
    }

    public static IApplicationBuilder UseProtocolGuards(this IApplicationBuilder app) =>
        app.UseMiddleware<ProtocolGuards>().UseMiddleware<RefuseUnsupportedMethods>().UseMiddleware<RefreshKeysWhenDue>();

    /// <summary>Refuses text that is not UTF-8 before anything reads it (Utf8Guard); after CORS, so that a browser can read the refusal.</summary>
    public static IApplicationBuilder UseUtf8Guard(this IApplicationBuilder app) => app.UseMiddleware<Utf8Guard>();

    /// <summary>The passthrough endpoints: OpenIddict has validated the request when these run.</summary>
    public static void MapProtocol(this WebApplication app)
    {
        app.MapPost(ProtocolPaths.Token, (TokenEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct));
        app.MapMethods(ProtocolPaths.Authorization, [HttpMethods.Get, HttpMethods.Post],
            (AuthorizationEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct)).DisableAntiforgery();
        app.MapMethods(ProtocolPaths.EndSession, [HttpMethods.Get, HttpMethods.Post],
            (EndSessionEndpoint endpoint, HttpContext http) => endpoint.HandleAsync(http)).DisableAntiforgery();
        app.MapMethods(ProtocolPaths.UserInfo, [HttpMethods.Get, HttpMethods.Post],
            (UserInfoEndpoint endpoint, HttpContext http, CancellationToken ct) => endpoint.HandleAsync(http, ct)).DisableAntiforgery();
    }

    /// <summary>
    /// Start-up work that needs the schema: scopes, declared clients and the key ring before the first request. When
    /// the migrations are left to a separate <c>migrate</c> step that has not run yet, it waits for them in the
    /// background (protocol requests answer 503 meanwhile).
    /// </summary>
    public static async Task PrepareProtocolAsync(this WebApplication app)
    {
        try
        {
            if (await ProtocolStartup.TryPrepareAsync(app.Services, CancellationToken.None)) return;
        }
        catch (Exception exception) when (Hosting.DatabaseFaults.IsUnavailable(exception))
        {
            // Database:MigrateOnStartup=false and no database yet: serve health (not ready) and try again, as for a
            // database whose migrations are still to come.
        }
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
        var migrator = scope.ServiceProvider.GetRequiredService<DatabaseMigrator>();
        if ((await migrator.PendingAsync(ct)).Count > 0) return false;
        await migrator.OneNodeAtATimeAsync(async () =>
        {
            await scope.ServiceProvider.GetRequiredService<ScopeSeeder>().SeedAsync(ct);
            await scope.ServiceProvider.GetRequiredService<ClientSeeder>().SeedAsync(ct);
            await AccountsRegistration.EnsureSelfServiceRolesAsync(services, ct);
        }, ct);
        await services.GetRequiredService<KeyRingLoader>().GetAsync(ct);
        return true;
    }
}

/// <summary>
/// OpenIddict's server options from ours (SPEC §2, §5): lifetimes, the reuse leeway, the issuer, the scopes and claims
/// discovery lists, S256 as the only PKCE method; pushed requests, user codes, and what a token exchange accepts and
/// may be for.
/// </summary>
internal sealed class ServerOptionsSetup(IOptions<TokenOptions> tokens, IOptions<ProtocolOptions> protocol, ScopeCatalog scopes)
    : IConfigureOptions<OpenIddictServerOptions>
{
    public void Configure(OpenIddictServerOptions options)
    {
        var t = tokens.Value;
        options.AccessTokenLifetime = t.AccessTokenLifetime;
        options.RefreshTokenLifetime = t.RefreshTokenLifetime;
        options.AuthorizationCodeLifetime = t.AuthorizationCodeLifetime;
        options.IdentityTokenLifetime = t.IdTokenLifetime;
        options.RefreshTokenReuseLeeway = t.RefreshTokenReuseLeeway;
        options.Issuer = protocol.Value.Issuer;
        options.Scopes.UnionWith(scopes.Names);
        options.Claims.UnionWith([Claims.Subject, Claims.Issuer, Claims.Audience, Claims.ExpiresAt, Claims.IssuedAt, Claims.AuthenticationTime,
            Claims.Nonce, Claims.AccessTokenHash, "sid", Claims.Name, Claims.GivenName, Claims.FamilyName, Claims.PreferredUsername,
            Claims.UpdatedAt, Claims.Email, Claims.EmailVerified, Claims.Role]);
        // RFC 7636 §4.2: "plain" protects nothing against an attacker who can read the authorization request.
        options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);
        // RFC 9126 §2.2: "a short lifetime"; SPEC §2: 60 s (OpenIddict: an hour). A person's sign-in continues past it (PushedRequests).
        options.RequestTokenLifetime = TimeSpan.FromSeconds(60);
        options.DeviceCodeLifetime = options.UserCodeLifetime = UserCodes.Lifetime;
        options.UserCodeCharset.Clear();
        options.UserCodeCharset.UnionWith(UserCodes.Alphabet.Select(c => c.ToString()));
        options.UserCodeLength = UserCodes.Length;
        options.UserCodeDisplayFormat = UserCodes.DisplayFormat;
        // SPEC §2: the subject (and actor) of a token exchange is one of our access tokens, never an id_token or refresh token.
        options.SubjectTokenTypes.IntersectWith([TokenTypeIdentifiers.AccessToken]);
        options.ActorTokenTypes.IntersectWith([TokenTypeIdentifiers.AccessToken]);
    }
}
