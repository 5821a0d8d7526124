using Identity.Server.Hosting;
using Microsoft.AspNetCore;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// SPEC §3: every error of the account API is RFC 9457 problem details. OpenIddict's validation answers a challenge
/// with the status and WWW-Authenticate (RFC 6750 §3) and no body; this adds the body before it finishes.
/// </summary>
internal sealed class WriteProblemDetailsForChallenges : IOpenIddictValidationHandler<ProcessChallengeContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessChallengeContext>()
            .AddFilter<OpenIddictValidationAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<WriteProblemDetailsForChallenges>()
            .SetOrder(OpenIddictValidationAspNetCoreHandlers.ProcessChallengeErrorResponse<ProcessChallengeContext>.Descriptor.Order - 500)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessChallengeContext context)
    {
        var http = context.Transaction.GetHttpRequest()!.HttpContext;
        await ApiProblems.WriteAsync(http, http.Response.StatusCode, context.Transaction.Response?.ErrorDescription);
    }
}
