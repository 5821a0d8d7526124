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

internal sealed class TokenOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<TokenOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var failures = new List<string>();
        void Positive(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero) failures.Add($"{TokenOptions.SectionName}:{key} must be a positive TimeSpan.");
        }
        Positive(options.AccessTokenLifetime, nameof(options.AccessTokenLifetime));
        Positive(options.RefreshTokenLifetime, nameof(options.RefreshTokenLifetime));
        Positive(options.RefreshTokenAbsoluteLifetime, nameof(options.RefreshTokenAbsoluteLifetime));
        Positive(options.AuthorizationCodeLifetime, nameof(options.AuthorizationCodeLifetime));
        Positive(options.IdTokenLifetime, nameof(options.IdTokenLifetime));
        Positive(options.SigningKeyRotation, nameof(options.SigningKeyRotation));
        if (options.RefreshTokenReuseLeeway < TimeSpan.Zero)
            failures.Add($"{TokenOptions.SectionName}:RefreshTokenReuseLeeway must not be negative.");
        if (options.RefreshTokenAbsoluteLifetime < options.RefreshTokenLifetime)
            failures.Add($"{TokenOptions.SectionName}:RefreshTokenAbsoluteLifetime must be at least RefreshTokenLifetime.");
        // Checked here rather than by a [RegularExpression], which lets an empty value through (an unset ${VAR} in a
        // compose file): a node then stored a key of no algorithm, which every node failed to load.
        if (options.SigningAlgorithm is not ("RS256" or "ES256"))
            failures.Add($"{TokenOptions.SectionName}:SigningAlgorithm must be RS256 or ES256.");
        if (options.SigningKeyPublishAhead >= options.SigningKeyRotation)
            failures.Add($"{TokenOptions.SectionName}:SigningKeyPublishAhead must be shorter than SigningKeyRotation.");
        return failures.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
