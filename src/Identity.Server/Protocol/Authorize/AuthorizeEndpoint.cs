using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Issuance;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Protocol.Authorize;

/// <summary>
/// GET and POST /connect/authorize: validates the request, makes sure a person is signed in recently enough (prompt,
/// max_age) and has consented, then sends a code to the client.
/// </summary>
internal sealed class AuthorizeEndpoint(AuthorizeRequestValidator validator, AuthorizationCodes codes, ServerDbContext db, SignInPolicy signIn,
    IssuerUri issuer, TimeProvider time)
{
    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken ct)
    {
        var (parameters, error) = await ReadAsync(http, ct);
        if (error is not null) return AuthorizeResponses.ErrorPage(error);
        var validation = await validator.ValidateAsync(parameters!, ct);
        if (validation.PageError is not null) return AuthorizeResponses.ErrorPage(validation.PageError);
        if (validation.RedirectError is { } failure) return Error(http, failure.RedirectUri, failure.ResponseMode, failure.Error, failure.Description, failure.State);
        var request = validation.Request!;

        var session = await http.AuthenticateAsync(PeopleSessions.Scheme);
        var authenticatedAt = session.Succeeded ? PeopleSessions.AuthenticatedAt(session.Principal) : null;
        var tooOld = request.MaxAge is { } maxAge && authenticatedAt is { } at && time.GetUtcNow() - at > TimeSpan.FromSeconds(maxAge);
        var user = session.Succeeded ? await signIn.FindUserWhoCanSignInAsync(session.Principal.FindFirst("sub")!.Value) : null;
        if (user is null || authenticatedAt is null || tooOld || request.Prompts.Contains("login"))
        {
            if (request.Prompts.Contains("none")) return Error(http, request, "login_required", "The user is not signed in.");
            // Back here after signing in, without prompt=login, or the person would be asked forever.
            return Results.Redirect(QueryHelpers.AddQueryString("/account/login", "returnUrl", ReturnUrl(http, parameters!, without: "login")));
        }

        if (request.Client.RequireConsent && (request.Prompts.Contains("consent") || !await HasConsentedAsync(user.Id, request, ct)))
        {
            if (request.Prompts.Contains("none")) return Error(http, request, "consent_required", "The user has not consented.");
            return Results.Redirect(QueryHelpers.AddQueryString("/connect/consent", "returnUrl", ReturnUrl(http, parameters!, without: "consent")));
        }

        var code = await codes.IssueAsync(request, user.Id, authenticatedAt.Value, ct);
        return AuthorizeResponses.Send(http, request.RedirectUri, request.ResponseMode,
            new Dictionary<string, string?> { ["code"] = code, ["state"] = request.State, ["iss"] = issuer.Value });
    }

    private Task<bool> HasConsentedAsync(string userId, AuthorizeRequest request, CancellationToken ct) =>
        ConsentStore.CoversAsync(db, userId, request.Client.ClientId, request.Scopes, ct);

    private IResult Error(HttpContext http, AuthorizeRequest request, string error, string description) =>
        Error(http, request.RedirectUri, request.ResponseMode, error, description, request.State);

    private IResult Error(HttpContext http, string redirectUri, string mode, string error, string description, string? state) =>
        AuthorizeResponses.Send(http, redirectUri, mode, new Dictionary<string, string?>
        {
            ["error"] = error, ["error_description"] = description, ["state"] = state, ["iss"] = issuer.Value,
        });

    /// <summary>The same request as a local URL, minus the prompt value just satisfied.</summary>
    private static string ReturnUrl(HttpContext http, ProtocolForm parameters, string without)
    {
        var query = parameters.Pairs.Where(p => p.Key != "prompt").ToDictionary(p => p.Key, p => (string?)p.Value);
        var remaining = string.Join(' ', (parameters["prompt"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => p != without));
        if (remaining.Length > 0) query["prompt"] = remaining;
        return QueryHelpers.AddQueryString(http.Request.PathBase + "/connect/authorize", query);
    }

    private static async Task<(ProtocolForm?, string?)> ReadAsync(HttpContext http, CancellationToken ct)
    {
        if (HttpMethods.IsPost(http.Request.Method))
        {
            var (form, error) = await ProtocolForm.ReadAsync(http.Request, ct);
            return (form, error?.Description);
        }
        var (query, queryError) = ProtocolForm.FromQuery(http.Request.Query);
        return (query, queryError?.Description);
    }
}

/// <summary>Remembered consent: a permanent authorization per person and client, with the scopes granted so far.</summary>
internal static class ConsentStore
{
    public static async Task<bool> CoversAsync(ServerDbContext db, string userId, string clientId, string[] scopes, CancellationToken ct)
    {
        var granted = await db.Authorizations.AsNoTracking()
            .Where(a => a.SubjectId == userId && a.ClientId == clientId && a.Kind == AuthorizationKind.Permanent && a.Status == AuthorizationStatus.Valid)
            .Select(a => a.Scopes).ToListAsync(ct);
        return granted.Any(g => scopes.All(g.Contains));
    }

    public static async Task GrantAsync(ServerDbContext db, string userId, string clientId, string[] scopes, DateTimeOffset now, CancellationToken ct)
    {
        var existing = await db.Authorizations.FirstOrDefaultAsync(a => a.SubjectId == userId && a.ClientId == clientId
            && a.Kind == AuthorizationKind.Permanent && a.Status == AuthorizationStatus.Valid, ct);
        if (existing is null)
            db.Authorizations.Add(new Authorization
            {
                Id = Guid.CreateVersion7(now), ClientId = clientId, SubjectId = userId, Scopes = scopes,
                Kind = AuthorizationKind.Permanent, Status = AuthorizationStatus.Valid, CreatedAt = now,
            });
        else
            existing.Scopes = existing.Scopes.Union(scopes, StringComparer.Ordinal).ToArray();
        await db.SaveChangesAsync(ct);
    }
}
