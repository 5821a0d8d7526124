using System.Collections.Immutable;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// The per-client settings SPEC §5 has and OpenIddict's application has no field for, kept in the application's
/// Settings under our own prefix; this is the one place that names and reads them.
/// </summary>
internal sealed record ClientSettings(bool UsesReferenceAccessTokens, IReadOnlyList<string> CorsOrigins)
{
    public const string AccessTokenFormat = "ids:access_token_format";
    public const string CorsOriginsSetting = "ids:cors_origins";
    public const string Reference = "reference";
    /// <summary>Marks a client created from configuration (Identity:Clients), which configuration may therefore remove.</summary>
    public const string Declared = "ids:declared";

    public static ClientSettings From(ImmutableDictionary<string, string> settings) => new(
        settings.TryGetValue(AccessTokenFormat, out var format) && format == Reference,
        settings.TryGetValue(CorsOriginsSetting, out var origins) ? origins.Split(' ', StringSplitOptions.RemoveEmptyEntries) : []);

    /// <summary>What a definition stores, OpenIddict's own lifetime settings included.</summary>
    public static Dictionary<string, string> Of(ClientDefinition definition)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.Equals(definition.AccessTokenFormat, Reference, StringComparison.OrdinalIgnoreCase)) settings[AccessTokenFormat] = Reference;
        if (definition.AllowedCorsOrigins.Length > 0)
            settings[CorsOriginsSetting] = string.Join(' ', definition.AllowedCorsOrigins.Select(o => o.TrimEnd('/')));
        if (definition.AccessTokenLifetime is { } access)
            settings[Settings.TokenLifetimes.AccessToken] = access.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        if (definition.RefreshTokenLifetime is { } refresh)
            settings[Settings.TokenLifetimes.RefreshToken] = refresh.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }
}
