using System.Reflection;
using Identity.Server.Protocol.Validation;
using OpenIddict.Abstractions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Accounts;

/// <summary>What every account API controller shares: JSON in and out, errors as RFC 9457 problem details, nothing cached.</summary>
[ApiController]
[Consumes("application/json")]
// A person's profile must not stay in a shared or browser cache (RFC 6750 §5.3; RFC 9111 §5.2.2.5).
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
[ProducesResponseType(typeof(ValidationProblemDetails), StatusCodes.Status400BadRequest, "application/problem+json")]
[ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status415UnsupportedMediaType, "application/problem+json")]
[ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status413PayloadTooLarge, "application/problem+json",
    Description = "The request body is larger than the server accepts (1 MiB).")]
[ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status503ServiceUnavailable, "application/problem+json",
    Description = "The database is unavailable; try again after the Retry-After header's delay (SPEC §6).")]
internal abstract class AccountControllerBase : ControllerBase
{
    /// <summary>
    /// Built by the same factory as the 400 for input that did not validate (InvalidInput), so that a client sees one
    /// shape whichever check refused it: the status's type and title, the fields, a trace id.
    /// </summary>
    protected ActionResult Problem(AccountError error)
    {
        var fields = new ModelStateDictionary();
        foreach (var (field, messages) in error.Errors)
            foreach (var message in messages) fields.AddModelError(field, message);
        // The factory's title fits 400 only ("One or more validation errors occurred."); a 409 is titled by its status.
        var title = error.Status == StatusCodes.Status400BadRequest ? null : ReasonPhrases.GetReasonPhrase(error.Status);
        var problem = ProblemDetailsFactory.CreateValidationProblemDetails(HttpContext, fields, error.Status, title);
        return new ObjectResult(problem) { StatusCode = error.Status, ContentTypes = { "application/problem+json" } };
    }

    /// <summary>The signed-in user's id, from the bearer token's sub.</summary>
    protected string UserId => User.FindFirst("sub")!.Value;

    /// <summary>The sign-in (OpenIddict authorization) the bearer token belongs to.</summary>
    protected string? CurrentAuthorization => User.GetAuthorizationId();

    protected const string BearerPolicy = BearerPolicies.User;

    protected const string NoToken = "The access token is missing, invalid, expired or revoked; WWW-Authenticate says which (RFC 6750 §3.1).";
    protected const string NotAnAccountToken =
        "The access token is not a person's sign-in through a first-party client (a client's own token, or a third-party app's).";
}

/// <summary>Lets MVC find our controllers although, like every type here, they are internal.</summary>
internal sealed class InternalControllerFeatureProvider : ControllerFeatureProvider
{
    protected override bool IsController(TypeInfo type) =>
        type.IsClass && !type.IsAbstract && typeof(AccountControllerBase).IsAssignableFrom(type);
}
