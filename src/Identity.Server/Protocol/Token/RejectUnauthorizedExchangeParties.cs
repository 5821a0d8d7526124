using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Token;

/// <summary>
/// Who may exchange which token (RFC 8693 §2.1, §5; SPEC §2): a confidential client only (else <c>unauthorized_client</c>),
/// and only a subject token meant for it — one issued to it, or one whose audience is an API the client serves (a
/// resource of one of its AllowedScopes) — with, if any, an actor token issued to it, so that a client names no actor
/// it holds no token of; else <c>invalid_request</c> (§2.2.2). In place of OpenIddict's ValidateAuthorizedParty for
/// token exchange, which wants the client's own id in the subject token's audience: ours name APIs, not clients.
/// </summary>
internal sealed class RejectUnauthorizedExchangeParties(IOpenIddictApplicationManager applications, ClientScopes clientScopes, ScopeCatalog catalog)
    : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .AddFilter<RequireTokenExchangeGrant>()
            .UseScopedHandler<RejectUnauthorizedExchangeParties>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateAuthorizedParty.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        var clientId = context.ClientId!;
        if (await applications.FindByClientIdAsync(clientId, context.CancellationToken) is not { } client
            || !await applications.HasClientTypeAsync(client, ClientTypes.Confidential, context.CancellationToken))
        {
            context.Reject(Errors.UnauthorizedClient, "Token exchange is for confidential clients.");
            return;
        }
        var subject = context.SubjectTokenPrincipal!;
        if (!subject.HasPresenter(clientId) && !subject.GetAudiences().Intersect(await ServedAsync(clientId, context.CancellationToken)).Any())
        {
            context.Reject(Errors.InvalidRequest, "The subject token is neither the client's nor for an API the client serves.");
            return;
        }
        if (context.ActorTokenPrincipal is { } actor && !actor.HasPresenter(clientId))
            context.Reject(Errors.InvalidRequest, "The actor token was not issued to the client.");
    }

    /// <summary>The resources of the API scopes the client may have: the APIs it stands for.</summary>
    private async Task<IReadOnlySet<string>> ServedAsync(string clientId, CancellationToken ct) =>
        (await clientScopes.AllowedAsync(clientId, ct)).Where(scope => !StandardScopes.All.Contains(scope))
            .SelectMany(scope => catalog.Definitions.Where(d => d.Name == scope).SelectMany(d => d.Resources))
            .ToHashSet(StringComparer.Ordinal);
}

/// <summary>OpenIddict's own ValidateAuthorizedParty (a code, device code or refresh token belongs to its client), for every grant but token exchange.</summary>
internal sealed class ValidateAuthorizedPartyOfOtherGrants : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    private readonly OpenIddictServerHandlers.Exchange.ValidateAuthorizedParty builtIn = new();

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .Import(OpenIddictServerHandlers.Exchange.ValidateAuthorizedParty.Descriptor)
            .AddFilter<RequireNoTokenExchangeGrant>()
            .UseSingletonHandler<ValidateAuthorizedPartyOfOtherGrants>()
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context) => builtIn.HandleAsync(context);
}

internal sealed class RequireTokenExchangeGrant : IOpenIddictServerHandlerFilter<BaseContext>
{
    public ValueTask<bool> IsActiveAsync(BaseContext context) => ValueTask.FromResult(context.Transaction.Request?.IsTokenExchangeGrantType() == true);
}

internal sealed class RequireNoTokenExchangeGrant : IOpenIddictServerHandlerFilter<BaseContext>
{
    public ValueTask<bool> IsActiveAsync(BaseContext context) => ValueTask.FromResult(context.Transaction.Request?.IsTokenExchangeGrantType() != true);
}
