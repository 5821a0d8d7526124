using System.Net.Http.Headers;
using System.Text;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// Authenticates the client of a token, revocation or introspection request: client_secret_basic,
/// client_secret_post, or none (a public client names itself with client_id). RFC 6749 §2.3.
/// </summary>
internal sealed class ClientAuthenticator(ClientStore clients)
{
    public async Task<ClientAuthentication> AuthenticateAsync(HttpRequest http, ProtocolForm form, CancellationToken ct)
    {
        var basic = ParseBasic(http);
        if (basic.Used && basic.ClientId is null)
            return ClientAuthentication.Failed(usedBasic: true);
        var postedId = form["client_id"];
        var postedSecret = form["client_secret"];
        // §2.3: a client MUST NOT use more than one authentication method in a request.
        if (basic.Used && postedSecret is not null)
            return ClientAuthentication.Rejected(OAuthError.InvalidRequest("Use one client authentication method, not two."));
        if (basic.Used && postedId is not null && postedId != basic.ClientId)
            return ClientAuthentication.Rejected(OAuthError.InvalidRequest("client_id does not match the Authorization header."));

        var clientId = basic.ClientId ?? postedId;
        var secret = basic.Used ? basic.Secret : postedSecret;
        if (string.IsNullOrEmpty(clientId)) return ClientAuthentication.Failed(basic.Used);
        var client = await clients.FindAsync(clientId, ct);
        if (client is null) return ClientAuthentication.Failed(basic.Used);

        if (client.IsPublic)
            return string.IsNullOrEmpty(secret) ? ClientAuthentication.Succeeded(client, basic.Used) : ClientAuthentication.Failed(basic.Used);
        return !string.IsNullOrEmpty(secret) && SecretHasher.Verify(secret, client.SecretHash)
            ? ClientAuthentication.Succeeded(client, basic.Used)
            : ClientAuthentication.Failed(basic.Used);
    }

    /// <summary>RFC 6749 §2.3.1: the id and secret are form-urlencoded before being put in the Basic header.</summary>
    private static (bool Used, string? ClientId, string? Secret) ParseBasic(HttpRequest http)
    {
        var header = http.Headers.Authorization.ToString();
        if (!AuthenticationHeaderValue.TryParse(header, out var value) || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
            return (false, null, null);
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter ?? ""));
            var colon = decoded.IndexOf(':');
            if (colon <= 0) return (true, null, null);
            return (true, Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')));
        }
        catch (FormatException)
        {
            return (true, null, null);
        }
    }
}

internal sealed record ClientAuthentication(Client? Client, OAuthError? Error, bool UsedBasic)
{
    public static ClientAuthentication Succeeded(Client client, bool usedBasic) => new(client, null, usedBasic);
    public static ClientAuthentication Failed(bool usedBasic) => new(null, OAuthError.InvalidClient(), usedBasic);
    public static ClientAuthentication Rejected(OAuthError error) => new(null, error, false);
}
