using System.Globalization;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// OIDC Core §3.1.2.1: max_age is a whole number of seconds. OpenIddict reads anything else as absent, so a client that
/// sent max_age=1e3 got a code without the age check it asked for; now it is invalid_request, sent to the client (at
/// the pushed authorization endpoint, the 400).
/// </summary>
internal sealed class RejectMalformedMaxAge<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RejectMalformedMaxAge<TContext>>()
            .SetOrder(typeof(TContext) == typeof(ValidatePushedAuthorizationRequestContext)
                ? OpenIddictServerHandlers.Authentication.ValidatePushedPromptParameter.Descriptor.Order + 500
                : OpenIddictServerHandlers.Authentication.ValidatePromptParameter.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(TContext context)
    {
        // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from the request."
        if ((string?)context.Transaction.Request!.GetParameter(Parameters.MaxAge) is { Length: > 0 } value
            && !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            context.Reject(Errors.InvalidRequest, "The max_age parameter must be a whole number of seconds.");
        return default;
    }
}
