using Identity.Server.Accounts.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace Identity.Server.Accounts;

[Route("api/account/confirm-email")]
internal sealed class EmailConfirmationController : AccountControllerBase
{
    /// <summary>Confirms an address with the token from its link, once (the link itself opens the page /account/confirm-email).</summary>
    [HttpGet]
    [Consumes("application/json", IsOptional = true)]
    [ProducesResponseType(typeof(MessageResponse), StatusCodes.Status200OK)]
    public async Task<ActionResult<MessageResponse>> ConfirmAsync([FromQuery] string? userId, [FromQuery] string? token,
        [FromServices] EmailConfirmationHandler handler, CancellationToken ct) =>
        await handler.ConfirmAsync(userId, token, ct) switch
        {
            ConfirmationOutcome.Confirmed => Ok(new MessageResponse("Your email address is confirmed.")),
            // SPEC §3: a link's token works once. The page the link opens words a second visit kindly; an API client
            // that presents a used token gets the same 400 as for any other token that no longer works.
            ConfirmationOutcome.AlreadyConfirmed => Problem(AccountError.Field("token", "The address this link confirms is already confirmed.")),
            _ => Problem(AccountError.Field("token", "The link is invalid or has expired; ask for a new one.")),
        };

    /// <summary>Sends a new confirmation link if the address belongs to an unconfirmed account. Always 202.</summary>
    [HttpPost("resend")]
    [ProducesResponseType(StatusCodes.Status202Accepted)]
    public async Task<IActionResult> ResendAsync([FromBody] EmailRequest request, [FromServices] EmailConfirmationHandler handler, CancellationToken ct)
    {
        await handler.ResendAsync(request.Email!, ct);
        return Accepted();
    }
}
