using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Identity.Server.Accounts;

/// <summary>
/// The account API's 400 for input that did not bind or validate: problem details whose <c>errors</c> name the fields
/// (SPEC §3). A body that could not be read is reported on the member where reading stopped (System.Text.Json's
/// "$.email" becomes "email"), not also as a missing body, and a repeated member says so in words of the API. A body
/// that is not a JSON object at all (empty, null, an array, a string) is one error on "", the body as a whole.
/// </summary>
internal static class InvalidInput
{
    private const string ObjectRequired = "A JSON object is required.";

    public static IActionResult Problem(ActionContext context)
    {
        var problem = context.HttpContext.RequestServices.GetRequiredService<ProblemDetailsFactory>()
            .CreateValidationProblemDetails(context.HttpContext, context.ModelState);
        // MVC names a missing body after our action's parameter ("The request field is required.") besides its own
        // "A non-empty request body is required." on "": neither is a member a client sent.
        var bodies = context.ActionDescriptor.Parameters.Where(p => p.BindingInfo?.BindingSource == BindingSource.Body).Select(p => p.Name).ToList();
        var unreadable = problem.Errors.Keys.Where(key => key.StartsWith('$')).ToList();
        var wholeBody = problem.Errors.Keys.Where(key => key == "" || bodies.Contains(key)).ToList();
        if (unreadable.Count > 0 || wholeBody.Count > 0)
        {
            foreach (var key in wholeBody) problem.Errors.Remove(key);
            // With a member unreadable, "required" only repeats that the body could not be read.
            if (unreadable.Count == 0) problem.Errors[""] = [ObjectRequired];
            foreach (var key in unreadable)
            {
                var messages = problem.Errors[key].Select(message => Reword(key, message)).ToArray();
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
    // type '…RegisterRequest'", "could not be converted to System.String", or to '…RegisterRequest' when the body is an
    // array or a string): clients need the rule, not our class names. Text that is not Unicode never gets this far
    // (RejectRepeatedOrInvalidJson), so a member that could not be converted had another type than string.
    private static string Reword(string path, string message) =>
        message.StartsWith("Duplicate property", StringComparison.Ordinal) ? "This member appears more than once; send it once."
        : message.StartsWith("The JSON value could not be converted to", StringComparison.Ordinal) ? (path == "$" ? ObjectRequired : "Expected a string.")
        : message;
}
