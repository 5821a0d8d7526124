using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// OpenIddict's application manager with two changes. First, through its two documented virtuals
/// (<c>ObfuscateClientSecretAsync</c>, <c>ValidateClientSecretAsync</c>): client secrets of at least
/// <see cref="ClientDefinitionValidator.MinimumSecretLength"/> characters — all of ours, by configuration — are
/// stored as SHA-256 and compared in constant time. A slow password hash (OpenIddict's PBKDF2, about 2 ms of CPU on
/// every authenticated request) protects low-entropy secrets against guessing; a long machine-generated secret is
/// already beyond guessing, so the cost would only cap client_credentials and introspection throughput. Shorter
/// secrets keep OpenIddict's PBKDF2. Second, through <c>ValidateRedirectUriAsync</c>, which the authorization and
/// pushed authorization endpoints ask, and <c>ValidatePostLogoutRedirectUriAsync</c>: a redirect URI registered on a
/// loopback IP literal accepts any port (<see cref="LoopbackRedirectUri"/>, RFC 8252 §7.3). OpenIddict's own relaxation
/// needs application type "native", which we do not set: it also takes localhost and refuses the scheme's default port.
/// </summary>
internal sealed class ApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication<Guid>> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication<Guid>>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication<Guid>> store)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication<Guid>>(cache, logger, options, store)
{
    private const string Prefix = "sha256:";

    protected override ValueTask<string> ObfuscateClientSecretAsync(string secret, CancellationToken cancellationToken = default) =>
        secret.Length >= ClientDefinitionValidator.MinimumSecretLength
            ? ValueTask.FromResult(Prefix + Convert.ToBase64String(Hash(secret)))
            : base.ObfuscateClientSecretAsync(secret, cancellationToken);

    protected override ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default)
    {
        if (!comparand.StartsWith(Prefix, StringComparison.Ordinal)) return base.ValidateClientSecretAsync(secret, comparand, cancellationToken);
        Span<byte> stored = stackalloc byte[32];
        var valid = Convert.TryFromBase64String(comparand[Prefix.Length..], stored, out var written) && written == 32
            && CryptographicOperations.FixedTimeEquals(Hash(secret), stored);
        return ValueTask.FromResult(valid);
    }

    public override async ValueTask<bool> ValidateRedirectUriAsync(OpenIddictEntityFrameworkCoreApplication<Guid> application, string uri,
        CancellationToken cancellationToken = default)
    {
        // Ours first: the base logs every URI it does not know as invalid, and this one is not. The code redemption
        // still compares its redirect_uri with the one the authorization request used, port included.
        if (LoopbackRedirectUri.IsLoopbackIpLiteral(uri)
            && (await GetRedirectUrisAsync(application, cancellationToken)).Any(registered => LoopbackRedirectUri.IsPortVariant(registered, uri)))
            return true;
        return await base.ValidateRedirectUriAsync(application, uri, cancellationToken);
    }

    /// <summary>
    /// The same rule for post-logout redirect URIs: a native app signing out listens on a port of the moment too. Asked
    /// when the request names its client (client_id); OpenIddict looks a URI alone up by its exact text.
    /// </summary>
    public override async ValueTask<bool> ValidatePostLogoutRedirectUriAsync(OpenIddictEntityFrameworkCoreApplication<Guid> application, string uri,
        CancellationToken cancellationToken = default)
    {
        if (LoopbackRedirectUri.IsLoopbackIpLiteral(uri)
            && (await GetPostLogoutRedirectUrisAsync(application, cancellationToken)).Any(registered => LoopbackRedirectUri.IsPortVariant(registered, uri)))
            return true;
        return await base.ValidatePostLogoutRedirectUriAsync(application, uri, cancellationToken);
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
