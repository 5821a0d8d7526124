using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// SPEC §2's absolute refresh lifetime: however often a sign-in is refreshed (each refresh slides the expiry forward),
/// no refresh token outlives <see cref="TokenOptions.RefreshTokenAbsoluteLifetime"/> from the sign-in, which is when
/// its authorization was created. OpenIddict has only the sliding lifetime.
/// </summary>
internal sealed class CapRefreshTokenLifetime(IOpenIddictAuthorizationManager authorizations, IOptions<TokenOptions> options)
    : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireRefreshTokenGenerated>()
            .UseScopedHandler<CapRefreshTokenLifetime>()
            .SetOrder(OpenIddictServerHandlers.PrepareRefreshTokenPrincipal.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        var principal = context.RefreshTokenPrincipal!;
        if (principal.GetAuthorizationId() is not { } id
            || await authorizations.FindByIdAsync(id, context.CancellationToken) is not { } authorization
            || await authorizations.GetCreationDateAsync(authorization, context.CancellationToken) is not { } signedInAt)
            return;
        var end = signedInAt + options.Value.RefreshTokenAbsoluteLifetime;
        if (principal.GetExpirationDate() is not { } expires || expires > end) principal.SetExpirationDate(end);
    }
}
