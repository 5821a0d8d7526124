using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// RFC 6749 §4.1.2.1: only a missing or invalid client or redirection URI is shown to the person; every other problem
/// with an authorization request (an unsupported response type, a scope the client may not have, PKCE) goes back to
/// the client's redirect URI, with its state. OpenIddict shows every validation failure to the person. This notes,
/// before anything else is checked, whether the request names a redirect URI registered for its client…
/// </summary>
internal sealed class RememberRegisteredRedirectUri(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
{
    internal static readonly string Property = typeof(RememberRegisteredRedirectUri).FullName!;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseScopedHandler<RememberRegisteredRedirectUri>()
            // Once OpenIddict has authenticated the client (it exists), before any parameter is checked.
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidateAuthentication.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        if (string.IsNullOrEmpty(context.ClientId) || context.Request.RedirectUri is not { Length: > 0 } redirectUri) return;
        if (await IsRegisteredAsync(applications, context.ClientId, redirectUri, context.CancellationToken))
            context.Transaction.SetProperty(Property, redirectUri);
    }

    /// <summary>Whether <paramref name="clientId"/> names a client and <paramref name="redirectUri"/> is one of its own.</summary>
    internal static async ValueTask<bool> IsRegisteredAsync(IOpenIddictApplicationManager applications, string clientId, string redirectUri,
        CancellationToken ct) =>
        await applications.FindByClientIdAsync(clientId, ct) is { } application && await applications.ValidateRedirectUriAsync(application, redirectUri, ct);
}

/// <summary>
/// …and sends a refusal there when the request failed after all (see <see cref="RememberRegisteredRedirectUri"/>). A
/// request refused before that point (a request object, a repeated parameter) is checked the same way here. A
/// response type OpenIddict does not know (foo, Code, none given) leaves it without a response mode; the error then
/// goes in the query, the default of the code flow, the only one served (RFC 6749 §4.1.2.1).
/// </summary>
internal sealed class SendValidationErrorsToTheClient(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseScopedHandler<SendValidationErrorsToTheClient>()
            .SetOrder(OpenIddictServerHandlers.Authentication.AttachRedirectUri.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        if (!string.IsNullOrEmpty(context.RedirectUri) || string.IsNullOrEmpty(context.Response.Error)) return;
        if (context.Transaction.GetProperty<string>(RememberRegisteredRedirectUri.Property) is { } remembered)
            context.RedirectUri = remembered;
        else if (context.Request is { ClientId: { Length: > 0 } clientId, RedirectUri: { Length: > 0 } redirectUri }
            && await RememberRegisteredRedirectUri.IsRegisteredAsync(applications, clientId, redirectUri, context.CancellationToken))
            context.RedirectUri = redirectUri;
    }
}

/// <summary>The query response mode for an error sent to the client of a request whose response type said none.</summary>
internal sealed class SendErrorsOfUnknownResponseTypesInTheQuery : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<SendErrorsOfUnknownResponseTypesInTheQuery>()
            .SetOrder(OpenIddictServerHandlers.Authentication.InferResponseMode.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        if (string.IsNullOrEmpty(context.RedirectUri) || string.IsNullOrEmpty(context.Response.Error)) return ValueTask.CompletedTask;
        if (string.IsNullOrEmpty(context.ResponseMode) && string.IsNullOrEmpty(context.Request?.ResponseMode))
            context.ResponseMode = ResponseModes.Query;
        // A response_mode this server does not serve (response_mode=foo) is refused like any other bad parameter, to the
        // client (RFC 6749 §4.1.2.1), by the response type's default mode: nothing could deliver it in the mode asked for,
        // and the person saw an error page instead.
        else if (!string.IsNullOrEmpty(context.ResponseMode) && !context.Options.ResponseModes.Contains(context.ResponseMode))
            context.ResponseMode = context.Request?.HasResponseType(ResponseTypes.Token) is true || context.Request?.HasResponseType(ResponseTypes.IdToken) is true
                ? ResponseModes.Fragment : ResponseModes.Query;
        return ValueTask.CompletedTask;
    }
}
