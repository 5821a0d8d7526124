using System.Security.Claims;
using Identity.Server.Accounts;
using Identity.Server.Protocol;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Device;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Scopes;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Pages.Connect;

/// <summary>
/// RFC 8628 §3.3: where a signed-in person types the code a device shows (or arrives with it prefilled from
/// verification_uri_complete), checks it against the device (§5.4: the code is shown again, so that a code phished
/// from someone else's device is noticed), and allows or denies what the device's client asks for. OpenIddict has
/// validated the code when this runs (the verification endpoint is a passthrough); allowing signs the person in
/// through it, which completes the device code for the next poll, and denying makes the device's next poll
/// access_denied. An unknown, expired or used code gets its own message, and failures are rate-limited (§5.1).
/// </summary>
[Authorize(AuthenticationSchemes = PeopleSessions.Scheme)]
internal sealed class VerifyModel(IOpenIddictApplicationManager applications, IOpenIddictTokenManager tokens, ClientScopes clientScopes,
    SignInPolicy signIn, UserManager<ApplicationUser> users, ScopeCatalog catalog, IssuerUri issuer, UserCodeRateLimiter limiter, TimeProvider time,
    ILogger<VerifyModel> logger) : PageModel
{
    private const string Allowed = "allowed", Denied = "denied";

    [BindProperty(SupportsGet = true, Name = "user_code")] public string? TypedCode { get; set; }
    [BindProperty(SupportsGet = true)] public string? Outcome { get; set; }
    public PageMessage? Message { get; private set; }
    public string? DisplayCode { get; private set; }
    public string? ClientName { get; private set; }
    public IReadOnlyList<string> ScopeDescriptions { get; private set; } = [];
    public bool IsConsent => ClientName is not null;
    public bool AsksForCode => Outcome is null || Message?.Kind == "error";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(TypedCode))
        {
            Message = Outcome switch
            {
                Allowed => PageMessage.Success("Your device is connected. You can go back to it now."),
                Denied => PageMessage.Info("You denied the request; the device gets no access. You can close this page."),
                _ => null,
            };
            if (Message is null) Outcome = null;
            return Page();
        }
        Outcome = null;
        if (await FindCodeAsync(ct) is not { } code) return Page();
        await DescribeAsync(code, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? decision, CancellationToken ct)
    {
        if (await FindCodeAsync(ct) is not { } code) return Page();
        logger.DeviceAuthorizationDecided(User.FindFirst(Claims.Subject)!.Value, decision == "allow" ? "allowed" : "denied", code.GetPresenters().FirstOrDefault() ?? "");
        if (decision != "allow")
        {
            // Claim the code for the denial first, conditionally (the row's concurrency token): an Allow redeeming it at
            // the same moment makes one of the two fail, so the person is never told "denied" while the device got in.
            if (code.GetTokenId() is not { } id || await tokens.FindByIdAsync(id, ct) is not { } row
                || !await tokens.HasStatusAsync(row, Statuses.Valid, ct) || !await tokens.TryRejectAsync(row, ct))
            {
                await SayWhyRefusedAsync(ct);
                return Page();
            }
            return await AnswerAsync(() => HttpContext.ForbidAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme,
                new AuthenticationProperties { RedirectUri = Url.Page("/Connect/Verify", new { outcome = Denied }) }), ct);
        }

        var user = await signIn.FindUserWhoCanSignInAsync(User.FindFirst(Claims.Subject)!.Value);
        if (user is null)
        {
            Message = PageMessage.Error("Your account cannot sign in right now, so it cannot connect a device.");
            return Page();
        }
        var scopes = await ScopesAsync(code, ct);
        var granted = scopes.ToHashSet(StringComparer.Ordinal);
        var roles = granted.Contains(StandardScopes.Roles) ? await users.GetRolesAsync(user) : [];
        var principal = Principals.ForUser(user, [.. roles], granted, PeopleSessions.AuthenticatedAt(User) ?? time.GetUtcNow(),
            User.FindFirst("sid")?.Value ?? Protocol.Authorization.Sessions.NewId());
        principal.SetScopes(scopes);
        principal.SetResources(catalog.AudiencesOf(granted, issuer.Value));
        return await AnswerAsync(() => HttpContext.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, principal,
            new AuthenticationProperties { RedirectUri = Url.Page("/Connect/Verify", new { outcome = Allowed }) }), ct);
    }

    /// <summary>
    /// Hands the decision to OpenIddict, which redeems the code and sends the person on. A concurrent submit of the same
    /// code (a double click, two tabs, two nodes) may have redeemed it since FindCodeAsync found it valid: OpenIddict then
    /// rejects this one and leaves the answer to the page, which says why, as for a code that was already used.
    /// </summary>
    private async Task<IActionResult> AnswerAsync(Func<Task> decide, CancellationToken ct)
    {
        try
        {
            await decide();
        }
        catch (InvalidOperationException) when (!Response.HasStarted && HttpContext.GetOpenIddictServerResponse() is { Error: not null })
        {
            await SayWhyRefusedAsync(ct);
            return Page();
        }
        return new EmptyResult();
    }

    /// <summary>The code OpenIddict validated, or null with the reason shown.</summary>
    private async Task<ClaimsPrincipal?> FindCodeAsync(CancellationToken ct)
    {
        if (HttpContext.GetOpenIddictServerResponse() is { Error: { } error } refused)
        {
            Message = PageMessage.Error(refused.ErrorDescription ?? error);
            return null;
        }
        var userId = User.FindFirst(Claims.Subject)!.Value;
        var address = HttpContext.Connection.RemoteIpAddress;
        if (limiter.IsLimited(userId, address))
        {
            logger.UserCodeAttemptsLimited(userId);
            Message = PageMessage.Error("Too many wrong codes; wait a minute and try again.");
            return null;
        }
        var result = await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (result.Principal is { } code && code.HasTokenType(TokenTypeIdentifiers.Private.UserCode)) return code;
        limiter.CountFailure(userId, address);
        await SayWhyRefusedAsync(ct);
        return null;
    }

    /// <summary>Tells the person why the code they typed is not (or no longer) one to answer.</summary>
    private async Task SayWhyRefusedAsync(CancellationToken ct) => Message = PageMessage.Error(await WhyRefusedAsync(ct));

    private async Task<string> WhyRefusedAsync(CancellationToken ct)
    {
        var normalized = UserCodes.Normalize(TypedCode ?? "");
        var token = normalized.Length == UserCodes.Length ? await tokens.FindByReferenceIdAsync(normalized, ct) : null;
        if (token is null || !await tokens.HasTypeAsync(token, TokenTypeIdentifiers.Private.UserCode, ct))
            return "This code is not one we know. Check it against the code on your device and type it again.";
        if (await tokens.HasStatusAsync(token, Statuses.Redeemed, ct))
            return "This code was already used. To connect the device again, start over on the device for a new code.";
        if (await tokens.HasStatusAsync(token, Statuses.Rejected, ct))
            return "This code was denied. To connect the device after all, start over on the device for a new code.";
        return "This code has expired. Start over on the device for a new code.";
    }

    private async Task DescribeAsync(ClaimsPrincipal code, CancellationToken ct)
    {
        var clientId = code.GetPresenters().FirstOrDefault() ?? "";
        var application = await applications.FindByClientIdAsync(clientId, ct);
        ClientName = application is null ? clientId : await applications.GetLocalizedDisplayNameAsync(application, ct) ?? clientId;
        ScopeDescriptions = (await ScopesAsync(code, ct)).Select(ConsentModel.Describe).ToList();
        DisplayCode = UserCodes.Display(UserCodes.Normalize(TypedCode ?? ""));
    }

    /// <summary>What the device asked for; nothing asked means the client's default, all it may have (RFC 6749 §3.3).</summary>
    private async Task<IReadOnlyList<string>> ScopesAsync(ClaimsPrincipal code, CancellationToken ct) =>
        code.GetScopes() is { Length: > 0 } asked ? asked : await clientScopes.AllowedAsync(code.GetPresenters().First(), ct);
}
