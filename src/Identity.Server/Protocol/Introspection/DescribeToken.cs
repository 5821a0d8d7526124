using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Introspection;

/// <summary>
/// RFC 7662 §2.2's <c>scope</c> and <c>username</c> for every caller ValidateIntrospectionCaller let through (in place
/// of OpenIddict's AttachApplicationClaims, which tells them only to an audience of the token). The user name travels
/// in the access token, so no user lookup is needed. And RFC 8693 §4.1's <c>act</c> of an exchanged token, which the
/// registry lists as an introspection member too: for a reference token, introspection is the only place it shows.
/// </summary>
internal sealed class DescribeToken : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
            .UseSingletonHandler<DescribeToken>()
            .SetOrder(OpenIddictServerHandlers.Introspection.AttachApplicationClaims.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
    {
        var token = context.GenericTokenPrincipal!;
        context.Scopes.UnionWith(token.GetScopes());
        context.Username = token.GetClaim(Claims.PreferredUsername);
        if (token.GetClaim(Token.TokenExchangeGrantHandler.ActClaim) is { } act)
            context.Claims[Token.TokenExchangeGrantHandler.ActClaim] = new OpenIddictParameter(JsonSerializer.Deserialize<JsonElement>(act));
        return ValueTask.CompletedTask;
    }
}
