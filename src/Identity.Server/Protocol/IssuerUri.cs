using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol;

/// <summary>
/// The issuer identifier: <c>Identity:Issuer</c> exactly as configured, or the request's origin when unset — the same
/// rule OpenIddict applies to its own <c>iss</c> (OIDC Discovery §4.3 needs discovery's issuer and every token's iss
/// to be one string).
/// </summary>
internal sealed class IssuerUri(IOptions<ProtocolOptions> options, IHttpContextAccessor http)
{
    public string Value => options.Value.Issuer?.AbsoluteUri is { } configured
        ? configured
        : http.HttpContext is { } context ? $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/" : "http://localhost:5000/";

    /// <summary>An absolute URL under the issuer, e.g. <c>Endpoint("account/confirm-email")</c>.</summary>
    public string Endpoint(string relative) => Value.TrimEnd('/') + "/" + relative.TrimStart('/');
}
