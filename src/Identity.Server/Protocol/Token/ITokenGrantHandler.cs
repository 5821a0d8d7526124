using System.Net;
using Identity.Server.Protocol.Clients;

namespace Identity.Server.Protocol.Token;

public interface ITokenGrantHandler
{
    string GrantType { get; }
    Task<GrantResult> HandleAsync(TokenRequest request, Client client, CancellationToken ct);
}

public readonly record struct GrantResult(TokenResponse? Response, OAuthError? Error)
{
    public static implicit operator GrantResult(TokenResponse response) => new(response, null);
    public static implicit operator GrantResult(OAuthError error) => new(null, error);
}

/// <summary>The token endpoint's parameters (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6; RFC 7636 §4.5).</summary>
public sealed record TokenRequest(
    string? GrantType, string? Scope, string? Username, string? Password, string? RefreshToken,
    string? Code, string? RedirectUri, string? CodeVerifier, IPAddress? RemoteAddress)
{
    internal static TokenRequest From(ProtocolForm form, HttpContext http) => new(
        form["grant_type"], form["scope"], form["username"], form["password"], form["refresh_token"],
        form["code"], form["redirect_uri"], form["code_verifier"], http.Connection.RemoteIpAddress);
}
