using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol.Authorization;

/// <summary>
/// A pushed request's request_uri lives 60 s and is used once (SPEC §2; RFC 9126 §2.2, §4), while a person may take
/// longer than that to sign in and consent. So when the authorization endpoint must send the person to the login or
/// consent page, the pushed request_uri is redeemed there and then, and the browser comes back with a new one that
/// names the same stored parameters (minus the prompt value just satisfied), valid for <see cref="ContinuationLifetime"/>
/// and used once in turn: OpenIddict redeems it when the code is issued. The parameters never appear in the browser's
/// URLs, and a client that requires pushed requests still gets nothing else. A request answered at once (the person is
/// signed in and has consented) needs no continuation: OpenIddict redeems the pushed request_uri itself.
/// </summary>
internal sealed class PushedRequests(IOpenIddictServerDispatcher dispatcher, IOpenIddictTokenManager tokens, IssuerUri issuer, TimeProvider time)
{
    /// <summary>Long enough to sign in, recover a forgotten password in another tab, and consent.</summary>
    public static readonly TimeSpan ContinuationLifetime = TimeSpan.FromMinutes(15);

    /// <summary>The pushed (or continued) request OpenIddict restored for this request, if it came by request_uri.</summary>
    public static ClaimsPrincipal? Of(HttpContext http) =>
        Transaction(http).GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!)?.RequestTokenPrincipal;

    /// <summary>
    /// The local URL that resumes <paramref name="request"/> without what was <paramref name="satisfied"/> (prompt values,
    /// or a parameter such as max_age), or null when the presented request_uri was used meanwhile (a second browser, or a replay).
    /// </summary>
    public async Task<string?> ContinueAsync(HttpContext http, OpenIddictRequest request, IReadOnlyCollection<string> satisfied, CancellationToken ct)
    {
        var presented = Of(http) ?? throw new InvalidOperationException("The request did not come by request_uri.");
        // Redeemed first: of two browsers racing with one request_uri, one goes on.
        if (await tokens.FindByIdAsync(presented.GetTokenId()!, ct) is not { } entry || !await tokens.TryRedeemAsync(entry, ct)) return null;

        var parameters = new OpenIddictRequest();
        foreach (var (name, value) in request.GetParameters())
            if (name is not (Parameters.RequestUri or Parameters.Prompt) && !satisfied.Contains(name)) parameters.SetParameter(name, value);
        var remaining = string.Join(' ', request.GetPromptValues().Where(p => !satisfied.Contains(p)));
        if (remaining.Length > 0) parameters.Prompt = remaining;

        var now = time.GetUtcNow();
        var principal = new ClaimsPrincipal(new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme));
        principal.SetClaim(Claims.Private.Issuer, issuer.Value)
            // Still a pushed request: RequirePushedAuthorizationRequests (OpenIddict's ValidatePushedAuthorizationRequestsRequirement) holds.
            .SetClaim(Claims.Private.RequestTokenType, RequestTokenTypes.Private.PushedAuthorizationRequest)
            .SetClaim(Claims.Private.RequestParameters, JsonSerializer.SerializeToElement(parameters))
            .SetPresenters(presented.GetPresenters())
            .SetCreationDate(now)
            .SetExpirationDate(now + ContinuationLifetime);
        var generation = new GenerateTokenContext(Transaction(http))
        {
            ClientId = request.ClientId,
            CreateTokenEntry = true,
            PersistTokenPayload = true,
            IsReferenceToken = true,
            Principal = principal,
            TokenFormat = TokenFormats.Private.JsonWebToken,
            TokenType = TokenTypeIdentifiers.Private.RequestToken,
        };
        await dispatcher.DispatchAsync(generation);
        if (generation.IsRejected || string.IsNullOrEmpty(generation.Token))
            throw new InvalidOperationException($"The continued request could not be stored: {generation.Error} {generation.ErrorDescription}");

        return QueryHelpers.AddQueryString(http.Request.PathBase + ProtocolPaths.Authorization, new Dictionary<string, string?>
        {
            [Parameters.ClientId] = request.ClientId,
            [Parameters.RequestUri] = RequestUris.Prefixes.Generic + generation.Token,
        });
    }

    private static OpenIddictServerTransaction Transaction(HttpContext http) =>
        http.Features.Get<OpenIddictServerAspNetCoreFeature>()?.Transaction ?? throw new InvalidOperationException("No OpenIddict transaction.");
}
