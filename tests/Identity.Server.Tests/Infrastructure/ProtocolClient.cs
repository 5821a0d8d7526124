using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>What a token endpoint answered: the wire status, headers and JSON, with the usual fields lifted out.</summary>
public sealed record TokenResult(HttpStatusCode Status, HttpResponseMessage Response, JsonElement Json)
{
    public string? AccessToken => Field("access_token");
    public string? RefreshToken => Field("refresh_token");
    public string? IdToken => Field("id_token");
    public string? Error => Field("error");
    public string? ErrorDescription => Field("error_description");
    public string? Scope => Field("scope");
    public string? Field(string name) => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>A minimal OAuth client over the test server's HttpClient.</summary>
public sealed class ProtocolClient(HttpClient http)
{
    public HttpClient Http => http;

    public Task<TokenResult> PasswordGrantAsync(TestClient client, TestUser user, string? scope = "openid offline_access") =>
        TokenAsync(client, Form(("grant_type", "password"), ("username", user.UserName), ("password", user.Password), ("scope", scope)));

    public Task<TokenResult> RefreshAsync(TestClient client, string refreshToken, string? scope = null) =>
        TokenAsync(client, Form(("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("scope", scope)));

    public Task<TokenResult> ClientCredentialsAsync(TestClient client, string? scope = null) =>
        TokenAsync(client, Form(("grant_type", "client_credentials"), ("scope", scope)));

    public Task<TokenResult> RevokeAsync(TestClient client, string token, string? hint = null) =>
        TokenAsync(client, Form(("token", token), ("token_type_hint", hint)), "/connect/revoke");

    public Task<TokenResult> IntrospectAsync(TestClient client, string token) =>
        TokenAsync(client, Form(("token", token)), "/connect/introspect");

    public async Task<TokenResult> UserInfoAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await SendAsync(request);
    }

    /// <summary>Confidential clients authenticate with Basic (client_secret_basic); public ones send client_id.</summary>
    public async Task<TokenResult> TokenAsync(TestClient client, List<KeyValuePair<string, string>> form, string path = "/connect/token")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (client.Secret is null) form.Add(new("client_id", client.ClientId));
        else request.Headers.Authorization = Basic(client.ClientId, client.Secret);
        request.Content = new FormUrlEncodedContent(form);
        return await SendAsync(request);
    }

    public async Task<TokenResult> SendAsync(HttpRequestMessage request)
    {
        var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var json = body.Length > 0 && body.TrimStart().StartsWith('{') ? JsonDocument.Parse(body).RootElement.Clone() : default;
        return new TokenResult(response.StatusCode, response, json);
    }

    public static List<KeyValuePair<string, string>> Form(params (string Key, string? Value)[] pairs) =>
        pairs.Where(p => p.Value is not null).Select(p => new KeyValuePair<string, string>(p.Key, p.Value!)).ToList();

    public static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));
}
