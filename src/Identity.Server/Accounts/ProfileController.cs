using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Identity.Server.Accounts;

[Route("api/account/profile")]
[Authorize(Policy = BearerPolicy)]
[ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status401Unauthorized, "application/problem+json", Description = NoToken)]
[ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status403Forbidden, "application/problem+json", Description = NotAnAccountToken)]
internal sealed class ProfileController : AccountControllerBase
{
    [HttpGet]
    [Consumes("application/json", IsOptional = true)]
    [ProducesResponseType(typeof(ProfileResponse), StatusCodes.Status200OK)]
    [ProducesResponseType(typeof(ValidationProblemDetails), StatusCodes.Status404NotFound, "application/problem+json", Description = "The account no longer exists.")]
    public async Task<ActionResult<ProfileResponse>> GetAsync([FromServices] ProfileReader profiles, CancellationToken ct) =>
        await profiles.ReadAsync(UserId, ct) is { } profile ? Ok(profile) : Problem(AccountError.Field("", "The account no longer exists.", StatusCodes.Status404NotFound));

    /// <summary>Updates names and user name; a new email is confirmed by a link sent to it before it replaces the old one.</summary>
    [HttpPut]
    [ProducesResponseType(typeof(ProfileResponse), StatusCodes.Status200OK)]
    [ProducesResponseType(typeof(ValidationProblemDetails), StatusCodes.Status409Conflict, "application/problem+json")]
    public async Task<ActionResult<ProfileResponse>> UpdateAsync([FromBody] UpdateProfileRequest request, [FromServices] ProfileHandler handler, CancellationToken ct)
    {
        var (profile, error) = await handler.UpdateAsync(UserId, request, ct);
        return error is not null ? Problem(error) : Ok(profile);
    }
}
