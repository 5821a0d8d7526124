using static OpenIddict.Abstractions.OpenIddictConstants;
using System.Net;
using Identity.Server.Protocol.Scopes;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Clients;

/// <summary>Invalid client configuration stops start-up, each message naming the key to fix.</summary>
internal sealed class ClientDefinitionValidator(IOptions<List<ScopeDefinition>> scopes, IConfiguration configuration, IOptions<ProtocolOptions> protocol)
    : IValidateOptions<List<ClientDefinition>>
{
    /// <summary>Client secrets are machine-generated; this length makes a fast hash safe (see ApplicationManager).</summary>
    public const int MinimumSecretLength = 32;
    public static readonly TimeSpan MaximumAccessTokenLifetime = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, List<ClientDefinition> clients)
    {
        var known = StandardScopes.All.Concat(scopes.Value.Select(s => s.Name)).ToHashSet(StringComparer.Ordinal);
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var keys = Hosting.ListKeys.Of(configuration, "Identity:Clients", clients.Count);
        var declared = configuration.GetSection("Identity:Clients").GetChildren().ToList();
        // The binder drops a list element with a value it cannot convert (RequireConsent=yes) without a word: the client
        // would be missing, or keep its old secret. Bound alone, the element says which value it is.
        if (declared.Count != clients.Count)
            foreach (var section in declared)
            {
                try
                {
                    section.Get<ClientDefinition>();
                }
                catch (InvalidOperationException exception)
                {
                    failures.Add($"{section.Path}: {exception.Message}");
                }
            }
        for (var i = 0; i < clients.Count; i++)
        {
            var client = clients[i];
            var key = keys[i];
            void Fail(string field, string message) => failures.Add($"{key}:{field}: {message}");

            if (string.IsNullOrWhiteSpace(client.ClientId) || client.ClientId.Length > 100 || client.ClientId.Any(char.IsWhiteSpace))
                Fail("ClientId", "required, at most 100 characters, no white space.");
            else if (!seen.Add(client.ClientId))
                Fail("ClientId", $"'{client.ClientId}' is declared twice.");

            var isPublic = string.Equals(client.Type, "public", StringComparison.OrdinalIgnoreCase);
            if (!isPublic && !string.Equals(client.Type, "confidential", StringComparison.OrdinalIgnoreCase))
                Fail("Type", "must be 'public' or 'confidential'.");
            if (isPublic && !string.IsNullOrEmpty(client.ClientSecret))
                Fail("ClientSecret", "a public client has no secret.");
            var hasKeySet = !string.IsNullOrWhiteSpace(client.JsonWebKeySet);
            if (!isPublic && !string.IsNullOrEmpty(client.ClientSecret) && client.ClientSecret.Length < MinimumSecretLength)
                Fail("ClientSecret", $"must be at least {MinimumSecretLength} characters.");
            if (!isPublic && string.IsNullOrEmpty(client.ClientSecret) && !hasKeySet)
                Fail("ClientSecret", $"a confidential client needs a secret of at least {MinimumSecretLength} characters, a JsonWebKeySet, or both.");
            if (isPublic && hasKeySet)
                Fail("JsonWebKeySet", "a public client does not authenticate; make it confidential to use private_key_jwt.");
            if (hasKeySet && ClientKeySet.Parse(client.JsonWebKeySet!).Problem is { } problem)
                Fail("JsonWebKeySet", problem);

            foreach (var grant in client.AllowedGrantTypes.Where(g => !SupportedGrantTypes.All.Contains(g)))
                Fail("AllowedGrantTypes", $"unknown grant type '{grant}'.");
            if (isPublic && client.AllowedGrantTypes.Contains(GrantTypes.ClientCredentials))
                Fail("AllowedGrantTypes", "client_credentials needs a confidential client.");
            // RFC 8693 §2.1 leaves it to the server; SPEC §2: a service exchanging tokens must prove who it is.
            if (isPublic && client.AllowedGrantTypes.Contains(GrantTypes.TokenExchange))
                Fail("AllowedGrantTypes", $"{GrantTypes.TokenExchange} needs a confidential client.");
            if (client.RequirePushedAuthorizationRequests && !client.AllowedGrantTypes.Contains(GrantTypes.AuthorizationCode))
                Fail("RequirePushedAuthorizationRequests", "applies to authorization requests: allow authorization_code too.");
            foreach (var scope in client.AllowedScopes.Where(s => !known.Contains(s)))
                Fail("AllowedScopes", $"unknown scope '{scope}' (declare API scopes under Identity:Scopes).");
            foreach (var (field, uris) in new[] { ("RedirectUris", client.RedirectUris), ("PostLogoutRedirectUris", client.PostLogoutRedirectUris) })
                foreach (var uri in uris)
                {
                    if (!IsAbsoluteWithoutFragment(uri))
                        Fail(field, $"'{uri}' must be an absolute URI without a fragment (and not javascript:, data: or vbscript:).");
                    // RFC 9700 §2.6: no http redirect URIs "except for native clients that use loopback interface
                    // redirection"; a code or a signed-out person sent over plain HTTP can be read or redirected on
                    // the way. Development (RequireHttps off) keeps http, for a local app on any host name.
                    else if (protocol.Value.RequireHttps && IsPlainHttpOffLoopback(uri))
                        Fail(field, $"'{uri}' is http on a host that is not loopback; with {ProtocolOptions.SectionName}:RequireHttps use https " +
                            "(http only on 127.0.0.1, [::1] or localhost, for a native app; RFC 9700 §2.6).");
                }
            foreach (var origin in client.AllowedCorsOrigins)
            {
                if (!IsOrigin(origin)) Fail("AllowedCorsOrigins", $"'{origin}' must be an origin: scheme://host[:port], no path.");
                // A page served over plain HTTP can be rewritten on the way, and then holds the person's tokens: the same
                // rule as for its redirect URIs.
                else if (protocol.Value.RequireHttps && IsPlainHttpOffLoopback(origin))
                    Fail("AllowedCorsOrigins", $"'{origin}' is http on a host that is not loopback; with {ProtocolOptions.SectionName}:RequireHttps use https.");
            }
            if (!string.Equals(client.AccessTokenFormat, "jwt", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(client.AccessTokenFormat, "reference", StringComparison.OrdinalIgnoreCase))
                Fail("AccessTokenFormat", "must be 'jwt' or 'reference'.");
            if (client.AccessTokenLifetime is { } access && (access <= TimeSpan.Zero || access > MaximumAccessTokenLifetime))
                Fail("AccessTokenLifetime", "must be positive and at most one day.");
            if (client.RefreshTokenLifetime is { } refresh && (refresh <= TimeSpan.Zero || refresh > TokenOptionsValidator.LongestLifetime))
                Fail("RefreshTokenLifetime", "must be positive and at most 3650 days.");
            // SPEC §2: introspection takes an authenticated client; a public one could only ever get 401.
            if (isPublic && client.AllowIntrospection)
                Fail("AllowIntrospection", "a public client cannot authenticate to introspect; make it confidential.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // On Unix "/path" parses as an absolute file URI, hence the IsFile check.
    // Private-use schemes stay allowed for native apps (RFC 8252 §7.1); the ones a browser runs as script do not.
    private static bool IsAbsoluteWithoutFragment(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && !uri.IsFile && !uri.IsUnc && string.IsNullOrEmpty(uri.Fragment)
        && uri.Scheme is not ("javascript" or "data" or "vbscript");

    private static bool IsPlainHttpOffLoopback(string value) =>
        new Uri(value) is { Scheme: "http" } uri
        && !(uri.DnsSafeHost == "localhost" || IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));

    internal static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && value.TrimEnd('/').Equals(uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
        && !value.EndsWith('/');
}
