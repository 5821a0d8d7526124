using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace Identity.Server.Accounts;

[Route("api/account/register")]
internal sealed class RegistrationController : AccountControllerBase
{
    /// <summary>Creates an account and queues its confirmation email.</summary>
    [HttpPost]
    [ProducesResponseType(typeof(ProfileResponse), StatusCodes.Status201Created)]
    [ProducesResponseType(typeof(ValidationProblemDetails), StatusCodes.Status409Conflict, "application/problem+json")]
    public async Task<ActionResult<ProfileResponse>> RegisterAsync([FromBody] RegisterRequest request, [FromServices] RegistrationHandler handler, CancellationToken ct)
    {
        var (profile, error) = await handler.RegisterAsync(request, ct);
        return error is not null ? Problem(error) : Created("/api/account/profile", profile);
    }
}
