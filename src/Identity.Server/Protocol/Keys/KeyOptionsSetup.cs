using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Validation;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// Feeds the ring's keys to OpenIddict's server (signing, JWKS, decryption) and validation (the account API) options,
/// which are rebuilt whenever the ring changes (<see cref="KeyRingChangeTokens"/>). Before the database's keys are
/// first read — migrations still pending — OpenIddict gets throwaway keys it needs to build its options at all; no
/// protocol request is served then (<see cref="RequireLoadedKeys"/> answers 503), so they never sign anything.
/// </summary>
internal sealed class KeyOptionsSetup(KeyRing ring) : IConfigureOptions<OpenIddictServerOptions>, IConfigureOptions<OpenIddictValidationOptions>,
    IPostConfigureOptions<OpenIddictServerOptions>
{
    private readonly Lazy<KeySet> placeholder = new(Placeholder);

    private KeySet Keys => ring.Current ?? placeholder.Value;

    public void Configure(OpenIddictServerOptions options)
    {
        options.SigningCredentials.AddRange(Keys.Signing);
        // The stored keys open what was sealed before sealing went direct; SelectKeys seals with the derived keys.
        options.EncryptionCredentials.AddRange(Keys.Encryption);
        options.EncryptionCredentials.AddRange(Keys.SealEncryption);
    }

    /// <summary>
    /// Registered after OpenIddict's own post-configuration, which verifies tokens with the keys of its signing
    /// credentials only (lazily re-enumerated per token). The seal-signing keys are kept out of those credentials, where
    /// discovery would list HS256 and the JWKS endpoint log a skipped key per request.
    /// </summary>
    public void PostConfigure(string? name, OpenIddictServerOptions options) =>
        options.TokenValidationParameters.IssuerSigningKeys = [.. options.SigningCredentials.Select(c => c.Key), .. Keys.SealSigningKeys];

    /// <summary>
    /// Registered after OpenIddict's local-server integration, which copies the server's keys as they were when its
    /// options were built; these are the ring's own, whichever of the two options was rebuilt first.
    /// </summary>
    public void Configure(OpenIddictValidationOptions options)
    {
        options.Configuration ??= new OpenIddictConfiguration { Issuer = options.Issuer };
        options.Configuration.SigningKeys.Clear();
        foreach (var credentials in Keys.Signing) options.Configuration.SigningKeys.Add(credentials.Key);
        options.EncryptionCredentials.Clear();
        options.EncryptionCredentials.AddRange(Keys.Encryption);
        options.EncryptionCredentials.AddRange(Keys.SealEncryption);
    }

    private static KeySet Placeholder()
    {
        var signing = new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "placeholder" }, SecurityAlgorithms.RsaSha256);
        var encryption = new EncryptingCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "placeholder" },
            SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512);
        return new KeySet(new Dictionary<string, SigningCredentials>(), [signing], encryption, [encryption], DateTimeOffset.MinValue, "placeholder");
    }
}

/// <summary>The ring's change token, for the server's and the validation's options.</summary>
internal sealed class KeyRingChangeTokens(KeyRing ring) : IOptionsChangeTokenSource<OpenIddictServerOptions>, IOptionsChangeTokenSource<OpenIddictValidationOptions>
{
    public string Name => Options.DefaultName;
    public IChangeToken GetChangeToken() => ring.GetChangeToken();
}
