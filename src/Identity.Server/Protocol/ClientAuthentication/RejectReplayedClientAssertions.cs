using System.Security.Cryptography;
using System.Text;
using Identity.Server.Persistence;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.ClientAuthentication;

/// <summary>
/// A client assertion is accepted once (SPEC §2; RFC 7523 §3 item 7, OIDC Core §9: "the jti ... MUST only be used
/// once"), on any node: its (client, jti) is written before the request goes on, and a second write of the same pair
/// finds the table's key taken. OpenIddict checks signature, expiry and audience but remembers nothing. Runs once the
/// assertion's signature and claims were checked, so that nobody but the client can use up one of its jti values.
/// </summary>
internal sealed class RejectReplayedClientAssertions(ServerDbContext db, ILogger<RejectReplayedClientAssertions> logger)
    : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionPrincipal>()
            .UseScopedHandler<RejectReplayedClientAssertions>()
            .SetOrder(OpenIddictServerHandlers.ValidateClientAssertionIssuer.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        var assertion = context.ClientAssertionPrincipal!;
        var clientId = assertion.GetClaim(Claims.Issuer)!;
        var jwtIdHash = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(assertion.GetClaim(Claims.JwtId)!)));
        var expiresAt = assertion.GetExpirationDate()!.Value + ClientAssertions.ClockSkew;
        var row = new UsedClientAssertion { ClientId = clientId, JwtIdHash = jwtIdHash, ExpiresAt = expiresAt };
        if (await InsertIfAbsent.RunAsync(db, row, context.CancellationToken)) return;
        logger.ClientAssertionReplayed(clientId);
        context.Reject(Errors.InvalidClient, "The client assertion was already used.");
    }
}
