using System.Security.Claims;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Identity.Server.Accounts;

/// <summary>
/// A request's checks that its attributes cannot make (the password policy, the self-service roles, a user name that
/// is another address), which its handler makes first, before it changes anything. <see cref="CheckEveryField"/> makes
/// them also when the attributes have refused some field already, so that one 400 lists every field at fault (SPEC §3).
/// </summary>
internal interface IInputCheck
{
    /// <summary>Errors by field (the members as clients send them); a field in <paramref name="refused"/> is not checked again.</summary>
    Task<Dictionary<string, string[]>> CheckAsync(object request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct);
}

/// <inheritdoc cref="IInputCheck"/>
internal interface IInputCheck<in TRequest> : IInputCheck
{
    Task<Dictionary<string, string[]>> CheckAsync(TRequest request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct);

    Task<Dictionary<string, string[]>> IInputCheck.CheckAsync(object request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct) =>
        CheckAsync((TRequest)request, caller, refused, ct);
}

/// <summary>
/// When model validation has refused a field, adds what the request's <see cref="IInputCheck"/> (keyed by the request's
/// type) finds in the others before the 400 is answered: a register with an invalid email and a short password was
/// refused for the email alone, and the password only once the email was fixed (audit a14 F5). A body that could not
/// be read has no request to check and stays one error.
/// </summary>
internal sealed class CheckEveryField : IAsyncActionFilter, IOrderedFilter
{
    // Before [ApiController]'s ModelStateInvalidFilter (order -2000), which answers the 400 from the model state.
    public int Order => -2001;

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        if (!context.ModelState.IsValid)
        {
            var refused = context.ModelState.Where(entry => entry.Value is { Errors.Count: > 0 }).Select(entry => entry.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var request in context.ActionArguments.Values.OfType<object>())
            {
                if (context.HttpContext.RequestServices.GetKeyedService<IInputCheck>(request.GetType()) is not { } check) continue;
                var errors = await check.CheckAsync(request, context.HttpContext.User, refused, context.HttpContext.RequestAborted);
                foreach (var (field, messages) in errors)
                    foreach (var message in messages) context.ModelState.AddModelError(field, message);
            }
        }
        await next();
    }
}
