using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Identity.Server.Accounts;

/// <summary>
/// The account API's 400 for input that did not bind or validate: problem details whose <c>errors</c> name the fields
/// (SPEC §3). A body that could not be read is reported on the member where reading stopped (System.Text.Json's
/// "$.email" becomes "email"), not also as a missing body, and a repeated member says so in words of the API.
/// </summary>
internal static class InvalidInput
{
    public static IActionResult Problem(ActionContext context)
    {
        var problem = context.HttpContext.RequestServices.GetRequiredService<ProblemDetailsFactory>()
            .CreateValidationProblemDetails(context.HttpContext, context.ModelState);
        var unreadable = problem.Errors.Keys.Where(key => key.StartsWith('$')).ToList();
        if (unreadable.Count > 0)
        {
            // "The request field is required." only repeats that the body could not be read.
            foreach (var body in context.ActionDescriptor.Parameters.Where(p => p.BindingInfo?.BindingSource == BindingSource.Body))
                problem.Errors.Remove(body.Name);
            foreach (var key in unreadable)
            {
                var messages = problem.Errors[key].Select(Reword).ToArray();
                problem.Errors.Remove(key);
                problem.Errors[Member(key)] = messages;
            }
        }
        return new BadRequestObjectResult(problem) { ContentTypes = { "application/problem+json" } };
    }

    /// <summary>"$.email" → "email", "$.roles[0]" → "roles", "$" (the body as a whole) → "".</summary>
    private static string Member(string path)
    {
        if (!path.StartsWith("$.", StringComparison.Ordinal)) return path == "$" ? "" : path;
        var end = path.IndexOfAny(['.', '['], 2);
        return end < 0 ? path[2..] : path[2..end];
    }

    // System.Text.Json's text names our CLR types ("Duplicate property 'email' encountered during deserialization of
    // type '…RegisterRequest'", "could not be converted to System.String"): clients need the rule, not our class names.
    private static string Reword(string message) =>
        message.StartsWith("Duplicate property", StringComparison.Ordinal) ? "This member appears more than once; send it once."
        : message.StartsWith("The JSON value could not be converted to System.String.", StringComparison.Ordinal) ? "Expected a string of valid UTF-8."
        : message;
}
