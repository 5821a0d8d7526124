using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// The account API accepts this server's access tokens through OpenIddict's validation (local server integration,
/// token and authorization entries checked, so a revoked token is refused at once), and only tokens of a person's
/// sign-in: a client's own client_credentials token has no authorization behind it.
/// </summary>
internal static class BearerPolicies
{
    public const string User = "user";

    public static AuthorizationBuilder AddBearerPolicies(this AuthorizationBuilder authorization) =>
        authorization.AddPolicy(User, policy => policy
            .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireAssertion(context => context.User.GetAuthorizationId() is not null));
}

/// <summary>
/// RFC 6750 §3.1: a valid token that does not grant what the API needs is 403 <c>insufficient_scope</c>. OpenIddict's
/// validation answers a plain forbid with its own <c>insufficient_access</c>.
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
            [OpenIddictValidationAspNetCoreConstants.Properties.ErrorDescription] = "The access token was not issued to a person.",
        }));
    }
}
