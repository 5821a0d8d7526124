using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Keys;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Protection;

/// <summary>
/// SPEC §5 <c>AccessTokenFormat=reference</c>: that client's access tokens are opaque reference values, validated only
/// by this server (introspection, userinfo). OpenIddict has this only as a global switch. The stored payload is
/// encrypted, so that a reader of the database cannot replay it as a JWT at a resource server that validates locally.
/// </summary>
internal sealed class ApplyClientAccessTokenFormat(IOpenIddictApplicationManager applications, KeyRing ring) : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .UseScopedHandler<ApplyClientAccessTokenFormat>()
            .SetOrder(OpenIddictServerHandlers.Protection.CreateTokenEntry.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenType != TokenTypeIdentifiers.AccessToken || string.IsNullOrEmpty(context.ClientId)) return;
        if (await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application) return;
        if (!ClientSettings.From(await applications.GetSettingsAsync(application, context.CancellationToken)).UsesReferenceAccessTokens) return;
        context.IsReferenceToken = true;
        context.PersistTokenPayload = true;
        context.EncryptionCredentials = (ring.Current ?? throw new InvalidOperationException("No keys loaded.")).ActiveSealEncryption;
    }
}
