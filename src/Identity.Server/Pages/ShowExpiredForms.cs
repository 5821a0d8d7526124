using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.ViewFeatures;

namespace Identity.Server.Pages;

/// <summary>
/// A page form whose anti-forgery check failed is answered 400 with a page that says so and links back to the form,
/// where the framework answered an empty 400 (the browser's own "This page isn't working"). It happens to people, not
/// only to forgers: a form left open while its session ended, or in a tab whose token another tab replaced. Nothing
/// the form asked for is done.
/// </summary>
internal sealed class ShowExpiredForms : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is not IAntiforgeryValidationFailedResult || context.ActionDescriptor is not CompiledPageActionDescriptor) return;
        var request = context.HttpContext.Request;
        context.Result = new ViewResult
        {
            ViewName = "/Pages/Shared/FormExpired.cshtml",
            StatusCode = StatusCodes.Status400BadRequest,
            ViewData = new ViewDataDictionary<string>(new EmptyModelMetadataProvider(), new ModelStateDictionary())
            {
                Model = request.PathBase.Add(request.Path) + request.QueryString,
            },
        };
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
