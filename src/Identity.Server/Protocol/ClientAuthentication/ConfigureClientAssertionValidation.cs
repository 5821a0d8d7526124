using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.ClientAuthentication;

/// <summary>
/// How a client assertion's JWT is checked, where OpenIddict's ResolveTokenValidationParameters differs from what the
/// clients in use send. OpenIddict 7 accepts only <c>typ: client-authentication+jwt</c> (draft-ietf-oauth-rfc7523bis),
/// while RFC 7523 §3 requires no type and openid-client, oauth4webapi and most libraries send none; here an absent
/// or generic <c>JWT</c> type is accepted as well as the explicit one, and any other type (an access token, an id_token)
/// is still refused. The algorithms are the asymmetric ones discovery advertises, and clocks may differ by a minute
/// rather than five.
/// </summary>
internal sealed class ConfigureClientAssertionValidation : IOpenIddictServerHandler<ValidateTokenContext>
{
    private const string ExplicitType = "client-authentication+jwt";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<RequireClientAssertionValidation>()
            .UseSingletonHandler<ConfigureClientAssertionValidation>()
            .SetOrder(OpenIddictServerHandlers.Protection.ResolveTokenValidationParameters.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        // A new TokenValidationParameters per assertion (OpenIddict builds one each time), so changing it is local.
        var parameters = context.TokenValidationParameters;
        parameters.TypeValidator = ValidateType;
        parameters.ValidAlgorithms = ClientAssertions.SigningAlgorithms;
        parameters.ClockSkew = ClientAssertions.ClockSkew;
        return ValueTask.CompletedTask;
    }

    // The value returned is what OpenIddict maps to its client_assertion token type; "JWT" would be read as an id_token.
    private static string ValidateType(string type, SecurityToken token, TokenValidationParameters parameters) =>
        string.IsNullOrEmpty(type) || string.Equals(type, "JWT", StringComparison.OrdinalIgnoreCase)
            || string.Equals(type, ExplicitType, StringComparison.OrdinalIgnoreCase)
            || string.Equals(type, "application/" + ExplicitType, StringComparison.OrdinalIgnoreCase)
            ? ExplicitType
            : throw new SecurityTokenInvalidTypeException("The client assertion has an unexpected type.") { InvalidType = type };
}
