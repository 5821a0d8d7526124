using OpenIddict.Abstractions;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace Identity.Server.Protocol.Validation;

/// <summary>
/// The account API takes only access tokens meant for this server: their <c>aud</c> names the issuer, as it does when
/// a grant asked for anything of this server's (<see cref="Scopes.ScopeCatalog.AudiencesOf"/>). A token for another API
/// alone (scope api.read, aud that API) was accepted, so any API that receives people's tokens could replay them here
/// (RFC 9068 §4: the resource server MUST check that aud names it; RFC 9700 §4.9). OpenIddict checks an audience only
/// when given a fixed one, and the issuer may be the request's origin.
/// </summary>
internal sealed class RequireThisServerAsAudience(IssuerUri issuer) : IOpenIddictValidationHandler<ValidateTokenContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<RequireThisServerAsAudience>()
            .SetOrder(OpenIddictValidationHandlers.Protection.ValidateAudiences.Descriptor.Order + 500)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is { } principal && principal.HasTokenType(TokenTypeIdentifiers.AccessToken)
            && !principal.HasAudience(issuer.Value))
            context.Reject(Errors.InvalidToken, "The access token is not meant for this server.");
        return default;
    }
}
