namespace Identity.Server.Protocol;

/// <summary>Section "Identity" (SPEC §5).</summary>
public sealed class ProtocolOptions
{
    public const string SectionName = "Identity";

    /// <summary>The issuer URL, also the origin of links in emails. When unset, the request's own origin is used.</summary>
    public Uri? Issuer { get; set; }

    /// <summary>Refuse plain HTTP on the protocol endpoints. Default true (appsettings.Development.json turns it off).</summary>
    public bool RequireHttps { get; set; } = true;
}

/// <summary>Section "Identity:Tokens" (SPEC §2, §5). Validated at start-up.</summary>
public sealed class TokenOptions
{
    public const string SectionName = "Identity:Tokens";

    /// <summary>Default 15 minutes. Affects "expires_in" and the JWT "exp".</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Default 7 days, sliding: each refresh extends it, up to <see cref="RefreshTokenAbsoluteLifetime"/>.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(7);
    /// <summary>Default 30 days from the original sign-in; no refresh goes past it.</summary>
    public TimeSpan RefreshTokenAbsoluteLifetime { get; set; } = TimeSpan.FromDays(30);
    /// <summary>Default 5 minutes.</summary>
    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Default 10 s: a redeemed refresh token presented again within it gets the same successor back.</summary>
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Default 5 minutes.</summary>
    public TimeSpan IdTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary><c>RS256</c> (default) or <c>ES256</c>.</summary>
    public string SigningAlgorithm { get; set; } = "RS256";
    /// <summary>Default 90 days: a new signing key takes over this often.</summary>
    public TimeSpan SigningKeyRotation { get; set; } = TimeSpan.FromDays(90);
    /// <summary>Default 2 days: a new key is in JWKS this long before it signs, longer than JWKS caches live.</summary>
    public TimeSpan SigningKeyPublishAhead { get; set; } = TimeSpan.FromDays(2);
}

/// <summary>
/// Each lifetime must be positive and within a bound: past the bound a value is a slip (days typed for minutes), and far
/// enough past it the instants computed from it leave DateTimeOffset's range, so every token request answered 500, or
/// start-up crashed naming no key.
/// </summary>
internal sealed class TokenOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<TokenOptions>
{
    /// <summary>
    /// Ten years, for the refresh tokens and the key rotation: longer than anyone means, and still far from year 9999
    /// when a key's expiry adds the rotation, the absolute refresh lifetime and a day to now.
    /// </summary>
    internal static readonly TimeSpan LongestLifetime = TimeSpan.FromDays(3650);

    /// <summary>RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."</summary>
    internal static readonly TimeSpan LongestAuthorizationCodeLifetime = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A replay inside the leeway gets the successor instead of revoking the family (SPEC §2); it covers a retry and
    /// racing tabs, seconds, and every minute of it is a minute in which a stolen refresh token goes undetected.
    /// </summary>
    internal static readonly TimeSpan LongestRefreshTokenReuseLeeway = TimeSpan.FromMinutes(5);

    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var failures = new List<string>();
        void Within(TimeSpan value, string key, TimeSpan longest, string inWords)
        {
            if (value <= TimeSpan.Zero || value > longest)
                failures.Add($"{TokenOptions.SectionName}:{key} must be a positive TimeSpan of at most {inWords}.");
        }
        // SPEC §2: a retired signing key stays in JWKS until every token it signed has expired. Its expiry counts a day
        // past its retirement for those tokens, the same day that caps a client's own AccessTokenLifetime, so the
        // global lifetimes of the tokens it signs are capped alike (an ID token is an id_token_hint at logout).
        var longestSigned = Clients.ClientDefinitionValidator.MaximumAccessTokenLifetime;
        Within(options.AccessTokenLifetime, nameof(options.AccessTokenLifetime), longestSigned, "one day");
        Within(options.IdTokenLifetime, nameof(options.IdTokenLifetime), longestSigned, "one day");
        Within(options.AuthorizationCodeLifetime, nameof(options.AuthorizationCodeLifetime), LongestAuthorizationCodeLifetime,
            "10 minutes (RFC 6749 §4.1.2)");
        Within(options.RefreshTokenLifetime, nameof(options.RefreshTokenLifetime), LongestLifetime, "3650 days");
        Within(options.RefreshTokenAbsoluteLifetime, nameof(options.RefreshTokenAbsoluteLifetime), LongestLifetime, "3650 days");
        Within(options.SigningKeyRotation, nameof(options.SigningKeyRotation), LongestLifetime, "3650 days");
        if (options.RefreshTokenReuseLeeway < TimeSpan.Zero || options.RefreshTokenReuseLeeway > LongestRefreshTokenReuseLeeway)
            failures.Add($"{TokenOptions.SectionName}:RefreshTokenReuseLeeway must be a TimeSpan from 0 to 5 minutes.");
        else if (options.RefreshTokenReuseLeeway >= options.RefreshTokenLifetime)
            failures.Add($"{TokenOptions.SectionName}:RefreshTokenReuseLeeway must be shorter than RefreshTokenLifetime.");
        if (options.RefreshTokenAbsoluteLifetime < options.RefreshTokenLifetime)
            failures.Add($"{TokenOptions.SectionName}:RefreshTokenAbsoluteLifetime must be at least RefreshTokenLifetime.");
        // Checked here rather than by a [RegularExpression], which lets an empty value through (an unset ${VAR} in a
        // compose file): a node then stored a key of no algorithm, which every node failed to load.
        if (options.SigningAlgorithm is not ("RS256" or "ES256"))
            failures.Add($"{TokenOptions.SectionName}:SigningAlgorithm must be RS256 or ES256.");
        // Negative, a successor was created only after its predecessor retired and signed before any JWKS listed it.
        if (options.SigningKeyPublishAhead < TimeSpan.Zero)
            failures.Add($"{TokenOptions.SectionName}:SigningKeyPublishAhead must not be negative.");
        else if (options.SigningKeyPublishAhead >= options.SigningKeyRotation)
            failures.Add($"{TokenOptions.SectionName}:SigningKeyPublishAhead must be shorter than SigningKeyRotation.");
        return failures.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
