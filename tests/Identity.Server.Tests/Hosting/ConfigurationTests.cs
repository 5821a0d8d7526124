using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Database:Provider", "Oracle")]
    [InlineData("Database:Provider", "5")] // the binder takes an enum's number: this ran on SQLite
    [InlineData("Identity:RateLimits:PasswordGrant:PerClientPerMinute", "0")] // a limit ≤ 0 was taken as 1 a minute
    [InlineData("Identity:RateLimits:PasswordGrant:PerUserNamePerMinute", "-1")]
    [InlineData("Identity:RateLimits:PasswordGrant:PerAddressPerMinute", "0")]
    [InlineData("Identity:RateLimits:UserCode:PerUserPerMinute", "0")]
    [InlineData("Identity:RateLimits:UserCode:PerAddressPerMinute", "-5")]
    [InlineData("Identity:Scopes:0:Name", "has space")]
    [InlineData("Identity:Tokens:AccessTokenLifetime", "forever")]
    [InlineData("Identity:Tokens:RefreshTokenReuseLeeway", "-00:00:05")]
    [InlineData("Identity:Tokens:SigningAlgorithm", "HS256")]
    [InlineData("Identity:Tokens:SigningAlgorithm", "")]
    [InlineData("Identity:Issuer", "not-a-url")]
    [InlineData("Identity:Issuer", "https://id.example.test/?tenant=1")]
    [InlineData("Identity:Issuer", "ftp://id.example.test/")]
    // Discovery is found at the issuer plus /.well-known/openid-configuration; the server serves nothing under a path.
    [InlineData("Identity:Issuer", "https://id.example.test/base/")]
    [InlineData("Identity:RequireHttps", "perhaps")]
    [InlineData("Accounts:Password:MinimumLength", "0")]
    // A blank role started, and a registration asking for it was a 500 (a14 audit).
    [InlineData("Accounts:SelfServiceRoles:0", " ")]
    [InlineData("Accounts:SelfServiceRoles:0", "")]
    [InlineData("Accounts:SelfServiceRoles:0", " customer")]
    [InlineData("Accounts:EmailsPerAddressPerHour", "0")]
    [InlineData("ForwardedHeaders:KnownProxies:0", "not-an-address")]
    [InlineData("Jobs:Prune:Interval", "-00:00:01")]
    [InlineData("Jobs:Prune:RetentionAge", "-1.00:00:00")]
    [InlineData("Jobs:Prune:MaxRowsPerRun", "0")]
    [InlineData("Jobs:Email:FirstBackoff", "00:00:00")]
    [InlineData("Jobs:Email:ClaimLease", "-00:00:01")]
    [InlineData("Email:From", "not an address")]
    [InlineData("Email:Smtp:Security", "Sometimes")]
    [InlineData("Health:EmailBacklogThreshold", "00:00:00")]
    // Past their bounds: far past, every token request answered 500 or start-up crashed naming no key (a10 audit).
    [InlineData("Identity:Tokens:AccessTokenLifetime", "9000000.00:00:00")]
    [InlineData("Identity:Tokens:IdTokenLifetime", "9000000.00:00:00")]
    [InlineData("Identity:Tokens:RefreshTokenReuseLeeway", "9000000.00:00:00")]
    [InlineData("Identity:Tokens:SigningKeyRotation", "3650000.00:00:00")]
    [InlineData("Identity:Tokens:RefreshTokenAbsoluteLifetime", "3650000.00:00:00")]
    [InlineData("Identity:Tokens:RefreshTokenLifetime", "3650000.00:00:00")]
    [InlineData("Identity:Tokens:AuthorizationCodeLifetime", "01:00:00")]
    [InlineData("Jobs:Prune:FirstRunDelay", "3650000.00:00:00")]
    [InlineData("Jobs:Prune:FirstRunDelay", "-00:00:01")]
    [InlineData("Jobs:Prune:Interval", "3650000.00:00:00")]
    [InlineData("Jobs:Prune:RetentionAge", "3650000.00:00:00")]
    [InlineData("Jobs:Email:MaxBackoff", "3650000.00:00:00")]
    [InlineData("Accounts:Lockout:Duration", "3650000.00:00:00")]
    // A link dead on arrival: with RequireConfirmedEmail nobody could ever sign in.
    [InlineData("Accounts:EmailConfirmationLinkLifetime", "-01:00:00")]
    [InlineData("Accounts:PasswordResetLinkLifetime", "00:00:00")]
    [InlineData("Accounts:PasswordResetLinkLifetime", "3650000.00:00:00")]
    // A key that signs before any JWKS listed it.
    [InlineData("Identity:Tokens:SigningKeyPublishAhead", "-00:00:30")]
    // SPEC §2: a retired key stays in JWKS a day past the longest lifetime of a token it signed, so no longer than that.
    [InlineData("Identity:Tokens:AccessTokenLifetime", "1.00:00:01")]
    [InlineData("Identity:Tokens:IdTokenLifetime", "400.00:00:00")]
    public async Task InvalidValue_StopsStartUp_NamingTheKey(string key, string value)
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?> { [key] = value });
        Assert.Contains(key, failure);
    }

    [Theory]
    [InlineData("ClientSecret", "too-short")]
    [InlineData("AllowedGrantTypes:0", "implicit")]
    [InlineData("AllowedScopes:0", "undeclared")]
    [InlineData("AllowedCorsOrigins:0", "https://app.example.test/path")]
    [InlineData("RedirectUris:0", "/relative")]
    [InlineData("JsonWebKeySet", "not json")]
    [InlineData("JsonWebKeySet", """{"keys":[]}""")]
    [InlineData("JsonWebKeySet", """{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}""")]
    [InlineData("JsonWebKeySet", """{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}""")]
    [InlineData("RequirePushedAuthorizationRequests", "true")]
    [InlineData("RedirectUris:0", "javascript:alert(1)")]
    // RFC 9700 §2.6: with RequireHttps (on outside Development), http only for loopback.
    [InlineData("RedirectUris:0", "http://plain.example.com/cb")]
    [InlineData("PostLogoutRedirectUris:0", "http://plain.example.com/")]
    [InlineData("AllowedCorsOrigins:0", "http://plain.example.com")]
    // A value the binder cannot convert dropped the whole client without a word (and kept an existing one's old secret).
    [InlineData("RequireConsent", "yes")]
    [InlineData("AccessTokenLifetime", "abc")]
    [InlineData("RefreshTokenLifetime", "3651.00:00:00")]
    public async Task InvalidClient_StopsStartUp_NamingTheKey(string field, string value)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = "broken",
            ["Identity:Clients:0:ClientSecret"] = new string('s', 40),
            ["Identity:Clients:0:AllowedGrantTypes:0"] = "client_credentials",
            [$"Identity:Clients:0:{field}"] = value,
        };
        var failure = await StartUpFailureAsync(settings);
        Assert.Contains($"Identity:Clients:0:{field.Split(':')[0]}", failure);
    }

    [Fact]
    public async Task InvalidClient_DeclaredAtAnyIndex_IsNamedByItsOwnKey()
    {
        // Identity__Clients__6__* alone binds as the list's first client; the message names the key the operator wrote.
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Identity:Clients:6:ClientId"] = "has space",
            ["Identity:Clients:6:ClientSecret"] = new string('s', 40),
            ["Identity:Clients:6:AllowedGrantTypes:0"] = "client_credentials",
        });
        Assert.Contains("Identity:Clients:6:ClientId", failure);
    }

    [Fact]
    public async Task PublicClientAllowedIntrospection_StopsStartUp()
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = "broken",
            ["Identity:Clients:0:Type"] = "public",
            ["Identity:Clients:0:AllowedGrantTypes:0"] = "password",
            ["Identity:Clients:0:AllowIntrospection"] = "true",
        });
        Assert.Contains("Identity:Clients:0:AllowIntrospection", failure);
    }

    [Fact]
    public async Task NoIssuer_OutsideDevelopment_StopsStartUp()
    {
        // The issuer was each request's origin: tokens' iss followed the Host header, and email links said localhost:5000.
        var failure = await StartUpFailureAsync(new Dictionary<string, string?> { ["Identity:Issuer"] = null });
        Assert.Contains("Identity:Issuer is required outside Development", failure);
    }

    [Fact]
    public async Task PublicClientForTokenExchange_StopsStartUp()
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = "broken",
            ["Identity:Clients:0:Type"] = "public",
            ["Identity:Clients:0:AllowedGrantTypes:0"] = "urn:ietf:params:oauth:grant-type:token-exchange",
        });
        Assert.Contains("Identity:Clients:0:AllowedGrantTypes", failure);
    }

    [Fact]
    public async Task ConfidentialClientWithNeitherSecretNorKeySet_StopsStartUp()
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = "broken",
            ["Identity:Clients:0:AllowedGrantTypes:0"] = "client_credentials",
        });
        Assert.Contains("Identity:Clients:0:ClientSecret", failure);
    }

    [Theory]
    [InlineData("api", "https://one.example.test", "api", "https://two.example.test", "Identity:Scopes:1:Name")]
    // A standard scope with resources changed the audience of every OIDC token.
    [InlineData("openid", "https://api.example.test", "api", "https://api.example.test", "Identity:Scopes:0:Resources")]
    // RFC 8707 §2: a resource is an absolute URI without a fragment; this one became an aud.
    [InlineData("api", "not_a_uri", "other", "https://api.example.test", "Identity:Scopes:0:Resources")]
    [InlineData("api", "/relative", "other", "https://api.example.test", "Identity:Scopes:0:Resources")]
    [InlineData("api", "https://api.example.test", "other", "https://api.example.test/#part", "Identity:Scopes:1:Resources")]
    public async Task InvalidScopes_StopStartUp_NamingTheKey(string name0, string resource0, string name1, string resource1, string key)
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Identity:Scopes:0:Name"] = name0,
            ["Identity:Scopes:0:Resources:0"] = resource0,
            ["Identity:Scopes:1:Name"] = name1,
            ["Identity:Scopes:1:Resources:0"] = resource1,
        });
        Assert.Contains(key, failure);
    }

    [Fact]
    public async Task ScopeWithoutName_DeclaredAtAnyIndex_StopsStartUp_NamingItsOwnKey()
    {
        // It crashed after the migrations, naming no key.
        var failure = await StartUpFailureAsync(new Dictionary<string, string?> { ["Identity:Scopes:4:Resources:0"] = "https://api.example.test" });
        Assert.Contains("Identity:Scopes:4:Name", failure);
    }

    [Theory]
    // The provider's own words ("Couldn't set hots", "keyword 'foo' is not supported") named no key.
    [InlineData("Postgres", "Hots=127.0.0.1")]
    [InlineData("Postgres", "Data Source=identity.db")] // Postgres chosen, SQLite's default left
    [InlineData("Sqlite", "Foo=bar")]
    public async Task ConnectionString_TheProviderCannotRead_StopsStartUp_NamingTheKey(string provider, string connectionString)
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["ConnectionStrings:Identity"] = connectionString,
        });
        Assert.Contains("ConnectionStrings:Identity", failure);
    }

    [Theory]
    [InlineData("ConnectTimeout")]
    [InlineData("CommandTimeout")]
    [InlineData("SendTimeout")]
    public async Task SmtpTimeout_PastWhatAnIntOfMillisecondsHolds_StopsStartUp(string timeout)
    {
        var failure = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["Email:Smtp:Host"] = "127.0.0.1",
            [$"Email:Smtp:{timeout}"] = "30.00:00:00",
        });
        Assert.Contains($"Email:Smtp:{timeout}", failure);
    }

    [Theory]
    [InlineData("no such file")]
    [InlineData("not a certificate")]
    public async Task TrustedCertificatePath_WithoutACertificate_StopsStartUp(string situation)
    {
        var file = Path.GetTempFileName();
        try
        {
            if (situation == "no such file") File.Delete(file); else await File.WriteAllTextAsync(file, "not a certificate");
            var failure = await StartUpFailureAsync(new Dictionary<string, string?>
            {
                ["Email:Smtp:Host"] = "127.0.0.1",
                ["Email:Smtp:TrustedCertificatePath"] = file,
            });
            Assert.Contains("Email:Smtp:TrustedCertificatePath", failure);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> StartUpFailureAsync(Dictionary<string, string?> settings)
    {
        var postgres = await TestPostgres.GetAsync();
        settings["Database:MigrateOnStartup"] = "false";
        await using var server = ConfiguredServer.OnPostgres(postgres.ConnectionString("postgres"), settings);
        return StartUpFailure.Of(server);
    }
}
