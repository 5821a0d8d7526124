using System.Security.Cryptography;
using System.Text;
using Identity.Server.Persistence;
using Microsoft.EntityFrameworkCore;
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
        // An insert that yields on the key rather than fails on it: a failed insert is an Error line with a stack trace
        // in EF Core's log, which anyone replaying an assertion could fill. The same statement on both providers; the
        // expiry as the model stores it (SQLite's context converts instants to Unix milliseconds).
        var expires = db.Model.FindEntityType(typeof(UsedClientAssertion))!.FindProperty(nameof(UsedClientAssertion.ExpiresAt))!
            .GetTypeMapping().Converter?.ConvertToProvider(expiresAt) ?? expiresAt;
        var inserted = await db.Database.ExecuteSqlAsync(
            $"""INSERT INTO "UsedClientAssertions" ("ClientId", "JwtIdHash", "ExpiresAt") VALUES ({clientId}, {jwtIdHash}, {expires}) ON CONFLICT DO NOTHING""",
            context.CancellationToken);
        if (inserted == 1) return;
        logger.ClientAssertionReplayed(clientId);
        context.Reject(Errors.InvalidClient, "The client assertion was already used.");
    }
}
