using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.ViewFeatures;

namespace Identity.Server.Pages;

/// <summary>
/// SPEC §6: a repeated parameter is a 400, on a page an error page. Model binding reads the first of a repeated form
/// field or query parameter and ignores the rest, so a reset-password form with two different NewPassword values
/// changed the password, and a login with two ReturnUrl values went wherever the first led. A name the page reads (a
/// bound property, a handler's parameter, the handler's own name), given more than once in the query or the form, is
/// now refused before any handler runs; names no page reads (a link's utm_source) change nothing and are left alone.
/// </summary>
internal sealed class RefuseRepeatedParameters : IAsyncResourceFilter
{
    public async Task OnResourceExecutionAsync(ResourceExecutingContext context, ResourceExecutionDelegate next)
    {
        if (context.ActionDescriptor is CompiledPageActionDescriptor page && await RepeatedAsync(context.HttpContext.Request, page) is { } name)
        {
            context.Result = new ViewResult
            {
                ViewName = "/Pages/Shared/RequestRefused.cshtml",
                StatusCode = StatusCodes.Status400BadRequest,
                ViewData = new ViewDataDictionary<string>(new EmptyModelMetadataProvider(), new ModelStateDictionary())
                {
                    Model = name,
                },
            };
            return;
        }
        await next();
    }

    private static async Task<string?> RepeatedAsync(HttpRequest request, CompiledPageActionDescriptor page)
    {
        var form = request.HasFormContentType ? await request.ReadFormAsync(request.HttpContext.RequestAborted) : null;
        foreach (var name in NamesRead(page))
            if (request.Query[name].Count > 1 || form?[name].Count > 1) return name;
        return null;
    }

    private static IEnumerable<string> NamesRead(CompiledPageActionDescriptor page) =>
        page.BoundProperties.Select(p => p.BindingInfo?.BinderModelName ?? p.Name)
            .Concat(page.HandlerMethods.SelectMany(h => h.Parameters)
                .Where(p => p.ParameterType != typeof(CancellationToken))
                .Select(p => p.BindingInfo?.BinderModelName ?? p.Name))
            .Append("handler");
}
