using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Identity.Server.Accounts;

/// <summary>
/// SPEC §6: a repeated parameter is a 400. Model binding reads the first of a repeated query parameter and ignores the
/// rest, so <c>confirm-email?userId=a&amp;userId=b&amp;token=…</c> confirmed a's address. A query parameter the action
/// reads, given more than once, is now a validation problem naming it, before the action runs; one it does not read
/// changes nothing and is left alone.
/// </summary>
internal sealed class RejectRepeatedQueryParameters : IResourceFilter
{
    private const string Repeated = "This parameter appears more than once; send it once.";

    public void OnResourceExecuting(ResourceExecutingContext context)
    {
        if (context.ActionDescriptor is not ControllerActionDescriptor action) return;
        var query = context.HttpContext.Request.Query;
        foreach (var parameter in action.Parameters)
        {
            if (parameter.BindingInfo?.BindingSource != BindingSource.Query) continue;
            var name = parameter.BindingInfo.BinderModelName ?? parameter.Name;
            if (query[name].Count > 1) context.ModelState.AddModelError(name, Repeated);
        }
        if (context.ModelState.ErrorCount > 0) context.Result = InvalidInput.Problem(context);
    }

    public void OnResourceExecuted(ResourceExecutedContext context)
    {
    }
}
