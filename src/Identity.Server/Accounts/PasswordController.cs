using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Identity.Server.Accounts;

[Route("api/account/password")]
internal sealed class PasswordController : AccountControllerBase
{
    /// <summary>Changes the password; the user's other sessions lose their refresh tokens.</summary>
    [HttpPost]
    [Authorize(Policy = BearerPolicy)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status401Unauthorized, "application/problem+json", Description = NoToken)]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status403Forbidden, "application/problem+json", Description = NotAnAccountToken)]
    public async Task<IActionResult> ChangeAsync([FromBody] ChangePasswordRequest request, [FromServices] ChangePasswordHandler handler, CancellationToken ct)
    {
        var error = await handler.ChangeAsync(UserId, CurrentAuthorization, request.CurrentPassword!, request.NewPassword!, ct);
        return error is null ? NoContent() : Problem(error);
    }

    /// <summary>Queues a reset email if the account exists. Always 202.</summary>
    [HttpPost("forgot")]
    [ProducesResponseType(StatusCodes.Status202Accepted)]
    public async Task<IActionResult> ForgotAsync([FromBody] EmailRequest request, [FromServices] PasswordResetHandler handler, CancellationToken ct)
    {
        await handler.ForgotAsync(request.Email!, ct);
        return Accepted();
    }

    /// <summary>Sets a new password with the token from the reset link; every session of the user ends.</summary>
    [HttpPost("reset")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    public async Task<IActionResult> ResetAsync([FromBody] ResetPasswordRequest request, [FromServices] PasswordResetHandler handler, CancellationToken ct)
    {
        var error = await handler.ResetAsync(request.UserId!, request.Token!, request.NewPassword!, ct);
        return error is null ? NoContent() : Problem(error);
    }
}
