using System.Security.Claims;
using System.Text.Encodings.Web;
using Identity.Server.Hosting;
using Identity.Server.Protocol.Issuance;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Bearer;

/// <summary>
/// The server's own APIs (userinfo, the account API) accept this server's access tokens (RFC 6750): from the
/// Authorization header, or for a form POST from the access_token field (§2.2), never both. Challenges follow §3.
/// </summary>
internal sealed class BearerAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AccessTokenValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    private const string Realm = "identity";
    private AccessTokenProblem problem = AccessTokenProblem.None;
    private bool badRequest;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string? token = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) token = header[7..].Trim();
        else if (header.Length > 0 && !header.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();

        if (HttpMethods.IsPost(Request.Method) && Request.HasFormContentType && !Request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            var (form, error) = await ProtocolForm.ReadAsync(Request, Context.RequestAborted);
            if (error is not null || (form!["access_token"] is not null && token is not null))
            {
                badRequest = true;
                return AuthenticateResult.Fail("invalid_request");
            }
            token ??= form["access_token"];
        }
        if (token is null) return header.Length > 0 ? Fail(AccessTokenProblem.Malformed) : AuthenticateResult.NoResult();

        var (validated, found) = await validator.ValidateAsync(token, Context.RequestAborted);
        if (validated is null) return Fail(found);
        Context.Features.Set(validated);
        var claims = new List<Claim> { new("sub", validated.SubjectId), new("client_id", validated.ClientId), new("jti", validated.Id.ToString("N")) };
        claims.AddRange(validated.Scopes.Select(s => new Claim("scope", s)));
        claims.AddRange(validated.Audiences.Select(a => new Claim("aud", a)));
        // Tokens issued to a person come from an authorization; client_credentials tokens do not.
        if (validated.AuthorizationId is not null) claims.Add(new Claim("token_use", "user"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, "sub", "role"));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private AuthenticateResult Fail(AccessTokenProblem reason)
    {
        problem = reason;
        return AuthenticateResult.Fail(reason.ToString());
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (badRequest)
        {
            await WriteAsync(StatusCodes.Status400BadRequest, $"Bearer realm=\"{Realm}\", error=\"invalid_request\", error_description=\"Send the access token once, in the Authorization header or the form.\"",
                "Invalid request");
            return;
        }
        // §3.1: a request with no credentials gets the bare challenge, without an error code.
        var challenge = problem == AccessTokenProblem.None
            ? $"Bearer realm=\"{Realm}\""
            : $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{Describe(problem)}\"";
        await WriteAsync(StatusCodes.Status401Unauthorized, challenge, "Unauthorized");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var scope = properties.Items.TryGetValue("scope", out var needed) ? needed : "openid";
        return WriteAsync(StatusCodes.Status403Forbidden,
            $"Bearer realm=\"{Realm}\", error=\"insufficient_scope\", error_description=\"The access token does not grant this.\", scope=\"{scope}\"", "Forbidden");
    }

    private async Task WriteAsync(int status, string challenge, string title)
    {
        Response.StatusCode = status;
        Response.Headers.WWWAuthenticate = challenge;
        Response.Headers.CacheControl = "no-store";
        if (EndpointFamilies.Of(Request.Path) == EndpointFamily.Api)
            await Response.WriteAsJsonAsync(new ProblemDetails { Status = status, Title = title, Detail = problem == AccessTokenProblem.None ? null : Describe(problem) },
                (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }

    private static string Describe(AccessTokenProblem problem) => problem switch
    {
        AccessTokenProblem.Expired => "The access token expired.",
        AccessTokenProblem.Revoked => "The access token was revoked.",
        AccessTokenProblem.Malformed => "The access token is malformed.",
        _ => "The access token is invalid.",
    };
}

internal static class BearerPolicies
{
    /// <summary>Userinfo: an access token with the openid scope (OIDC Core §5.3).</summary>
    public const string OpenId = "openid";
    /// <summary>The account API: a token issued to a person, not to a client for itself.</summary>
    public const string User = "user";
}
