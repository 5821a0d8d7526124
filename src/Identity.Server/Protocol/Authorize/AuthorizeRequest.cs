using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;

namespace Identity.Server.Protocol.Authorize;

/// <summary>A validated authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3).</summary>
internal sealed record AuthorizeRequest(Client Client, string RedirectUri, bool RedirectUriGiven, string ResponseMode, string[] Scopes,
    string? State, string? Nonce, string? CodeChallenge, IReadOnlySet<string> Prompts, int? MaxAge);

/// <summary>
/// The outcome of validating an authorization request. Problems with the client or redirect URI are shown to the person
/// (never sent to an unverified redirect URI, RFC 6749 §4.1.2.1); every other problem goes back to the client.
/// </summary>
internal sealed record AuthorizeValidation(AuthorizeRequest? Request, string? PageError, AuthorizeRedirectError? RedirectError);

internal sealed record AuthorizeRedirectError(string RedirectUri, string ResponseMode, string Error, string Description, string? State);

internal sealed class AuthorizeRequestValidator(ClientStore clients, ScopeCatalog scopes)
{
    private static readonly HashSet<string> KnownPrompts = ["none", "login", "consent", "select_account"];

    public async Task<AuthorizeValidation> ValidateAsync(ProtocolForm parameters, CancellationToken ct)
    {
        var clientId = parameters["client_id"];
        if (clientId is null) return Page("The request names no client (client_id is missing).");
        var client = await clients.FindAsync(clientId, ct);
        if (client is null) return Page("The application that sent you here is not registered.");

        var given = parameters["redirect_uri"];
        string redirectUri;
        if (given is null)
        {
            // §3.1.2.3: with exactly one registered redirect URI it may be omitted; OIDC requests must carry it.
            if (client.RedirectUris.Length != 1 || IsOpenId(parameters["scope"]))
                return Page("The request has no redirect_uri.");
            redirectUri = client.RedirectUris[0];
        }
        else if (!client.RedirectUris.Contains(given, StringComparer.Ordinal))
            return Page("The redirect_uri is not registered for this application.");
        else
            redirectUri = given;

        var state = parameters["state"];
        var responseMode = parameters["response_mode"] ?? "query";
        if (responseMode is not ("query" or "form_post"))
            return Redirect(redirectUri, "query", "invalid_request", "response_mode must be query or form_post.", state);
        AuthorizeValidation Fail(string error, string description) => Redirect(redirectUri, responseMode, error, description, state);

        if (parameters["request"] is not null || parameters["request_uri"] is not null)
            return Fail("request_not_supported", "Request objects are not supported.");
        if (parameters["response_type"] is not { } responseType)
            return Fail("invalid_request", "response_type is required.");
        if (responseType != "code")
            return Fail("unsupported_response_type", "Only response_type=code is supported.");
        if (!client.AllowsGrant(GrantTypes.AuthorizationCode))
            return Fail("unauthorized_client", "This client may not use the authorization code flow.");

        var scope = scopes.Resolve(parameters["scope"], client.AllowedScopes);
        if (scope.Error is not null) return Fail("invalid_scope", scope.Error.Description);

        var challenge = parameters["code_challenge"];
        var method = parameters["code_challenge_method"];
        if (challenge is null && method is not null) return Fail("invalid_request", "code_challenge_method without code_challenge.");
        if (challenge is not null)
        {
            // §4.3: an absent method means "plain", which this server refuses.
            if (method != Pkce.S256) return Fail("invalid_request", "code_challenge_method must be S256.");
            if (!Pkce.IsWellFormed(challenge)) return Fail("invalid_request", "code_challenge is malformed.");
        }
        else if (client.IsPublic)
            return Fail("invalid_request", "Public clients must use PKCE (code_challenge with S256).");

        var prompts = (parameters["prompt"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (prompts.Any(p => !KnownPrompts.Contains(p))) return Fail("invalid_request", "Unknown prompt value.");
        if (prompts.Contains("none") && prompts.Count > 1) return Fail("invalid_request", "prompt=none cannot be combined.");
        int? maxAge = null;
        if (parameters["max_age"] is { } maxAgeText)
        {
            if (!int.TryParse(maxAgeText, System.Globalization.NumberStyles.None, null, out var parsed)) return Fail("invalid_request", "max_age must be a non-negative integer.");
            maxAge = parsed;
        }
        var nonce = parameters["nonce"];
        if (nonce is { Length: > 512 } || state is { Length: > 2048 }) return Fail("invalid_request", "nonce or state is too long.");

        return new AuthorizeValidation(new AuthorizeRequest(client, redirectUri, given is not null, responseMode, scope.Scopes!, state, nonce,
            challenge, prompts, maxAge), null, null);
    }

    private static bool IsOpenId(string? scope) => scope?.Split(' ').Contains(StandardScopes.OpenId) == true;
    private static AuthorizeValidation Page(string error) => new(null, error, null);
    private static AuthorizeValidation Redirect(string uri, string mode, string error, string description, string? state) =>
        new(null, null, new AuthorizeRedirectError(uri, mode, error, description, state));
}
