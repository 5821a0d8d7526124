using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Identity.Server.Protocol.Scopes;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// RFC 6749 §4.3. Only for first-party clients that are explicitly allowed it (RFC 9700 §2.4 deprecates the grant),
/// behind lockout and rate limits.
/// </summary>
internal sealed class PasswordGrantHandler(ServerDbContext db, SignInPolicy signIn, PasswordGrantRateLimiter limiter, ScopeCatalog scopes,
    TokenIssuer issuer, IOptions<TokenOptions> options, TimeProvider time, ILogger<PasswordGrantHandler> logger) : ITokenGrantHandler
{
    public string GrantType => GrantTypes.Password;

    public async Task<GrantResult> HandleAsync(TokenRequest request, Client client, CancellationToken ct)
    {
        if (request.Username is null || request.Password is null)
            return OAuthError.InvalidRequest("The username and password parameters are required.");
        if (limiter.TryAcquire(client.ClientId, request.Username, request.RemoteAddress) is { } retryAfter)
            return OAuthError.TooManyRequests(retryAfter);
        var scope = scopes.Resolve(request.Scope, client.AllowedScopes);
        if (scope.Error is not null) return scope.Error;

        var (outcome, user) = await signIn.CheckPasswordAsync(request.Username, request.Password, SignInChannel.PasswordGrant);
        switch (outcome)
        {
            case SignInOutcome.InvalidCredentials:
                return OAuthError.InvalidGrant("unknown user or wrong password");
            case SignInOutcome.LockedOut:
                logger.PasswordSignInRefused(user!.Id, "locked out");
                return OAuthError.InvalidGrantDescribed("The account is locked out; try again later.", "locked out");
            case SignInOutcome.NotConfirmed:
                return OAuthError.InvalidGrantDescribed("The email address has not been confirmed.", "email not confirmed");
        }

        var now = time.GetUtcNow();
        var family = new Authorization
        {
            Id = Guid.CreateVersion7(now),
            ClientId = client.ClientId,
            SubjectId = user!.Id,
            Scopes = scope.Scopes!,
            Kind = AuthorizationKind.AdHoc,
            Status = AuthorizationStatus.Valid,
            CreatedAt = now,
            AuthenticatedAt = now,
            ExpiresAt = now + options.Value.RefreshTokenAbsoluteLifetime,
        };
        db.Authorizations.Add(family);
        return await issuer.IssueAsync(new IssueRequest(client, user.Id, scope.Scopes!, now) { Authorization = family, User = user }, ct);
    }
}
