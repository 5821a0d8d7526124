using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Introspection;

/// <summary>
/// RFC 7662 §2.1: the endpoint requires client authentication, and a public client has none to offer (OpenIddict lets
/// one through with just its client_id). SPEC §2: 401 invalid_client.
/// </summary>
internal sealed class RejectPublicIntrospectionClients(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .UseScopedHandler<RejectPublicIntrospectionClients>()
            .SetOrder(OpenIddictServerHandlers.Introspection.ValidateAuthentication.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
    {
        var application = await applications.FindByClientIdAsync(context.ClientId!, context.CancellationToken);
        if (application is null || await applications.HasClientTypeAsync(application, ClientTypes.Public, context.CancellationToken))
            context.Reject(Errors.InvalidClient, "Introspection requires an authenticated confidential client.");
    }
}
