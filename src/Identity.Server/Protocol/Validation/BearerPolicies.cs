using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// The account API accepts this server's access tokens through OpenIddict's validation (local server integration,
/// token and authorization entries checked, so a revoked token is refused at once, and the audience checked by
/// <see cref="RequireThisServerAsAudience"/>), and only tokens of a person's sign-in held by a first-party client
/// (<see cref="AccountHolderHandler"/>).
/// </summary>
internal static class BearerPolicies
{
    public const string User = "user";

    public static AuthorizationBuilder AddBearerPolicies(this AuthorizationBuilder authorization)
    {
        authorization.Services.AddScoped<IAuthorizationHandler, AccountHolderHandler>();
        return authorization.AddPolicy(User, policy => policy
            .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .AddRequirements(new AccountHolder()));
    }
}

internal sealed class AccountHolder : IAuthorizationRequirement;

/// <summary>
/// A token may manage the account (change its email, then reset its password: the whole account) only when it stands
/// for a person's sign-in — a client's own client_credentials token has no authorization behind it — and its client is
/// first-party: one the person gave their password to (the password grant, SPEC §1's app), or one the operator declared
/// without consent (RequireConsent=false). A third-party app's token, consented for "openid" or an API, is not an
/// account-management token: the consent page never said so.
/// </summary>
internal sealed class AccountHolderHandler(IOpenIddictApplicationManager applications) : AuthorizationHandler<AccountHolder>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AccountHolder requirement)
    {
        if (context.User.GetAuthorizationId() is null)
        {
            context.Fail(new AuthorizationFailureReason(this, "The access token was not issued to a person."));
            return;
        }
        var clientId = context.User.FindFirst(Claims.ClientId)?.Value ?? context.User.GetPresenters().FirstOrDefault();
        if (clientId is not null && await applications.FindByClientIdAsync(clientId) is { } client
            && (await applications.HasPermissionAsync(client, Permissions.GrantTypes.Password)
                || await applications.HasConsentTypeAsync(client, ConsentTypes.Implicit)))
        {
            context.Succeed(requirement);
            return;
        }
        context.Fail(new AuthorizationFailureReason(this, "The access token's client may not manage the account."));
    }
}

/// <summary>
/// RFC 6750 §3.1: a valid token that does not grant what the API needs is 403 <c>insufficient_scope</c>, with the
/// reason the policy gave. OpenIddict's validation answers a plain forbid with its own <c>insufficient_access</c>.
/// </summary>
internal sealed class ForbidWithInsufficientScope : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler standard = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden || !policy.AuthenticationSchemes.Contains(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme))
            return standard.HandleAsync(next, context, policy, authorizeResult);
        return context.ForbidAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme, new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictValidationAspNetCoreConstants.Properties.Error] = Errors.InsufficientScope,
            [OpenIddictValidationAspNetCoreConstants.Properties.ErrorDescription] =
                authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "The access token does not allow this.",
        }));
    }
}
