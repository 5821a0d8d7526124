using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>What a device authorization endpoint answered (RFC 8628 §3.2).</summary>
public sealed record DeviceAuthorization(string DeviceCode, string UserCode, string VerificationUri, string VerificationUriComplete, int ExpiresIn, int Interval)
{
    public static DeviceAuthorization From(TokenResult result)
    {
        Assert.Equal(HttpStatusCode.OK, result.Status);
        var json = result.Json;
        return new(json.GetProperty("device_code").GetString()!, json.GetProperty("user_code").GetString()!, json.GetProperty("verification_uri").GetString()!,
            json.GetProperty("verification_uri_complete").GetString()!, json.GetProperty("expires_in").GetInt32(), json.GetProperty("interval").GetInt32());
    }
}

/// <summary>The device flow over plain HTTP: the device's requests, and the person's visit to /connect/verify with a signed-in cookie jar.</summary>
public static class DeviceFlow
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";

    public static async Task<DeviceAuthorization> StartAsync(ProtocolClient device, TestClient client, string? scope = "openid offline_access") =>
        DeviceAuthorization.From(await device.TokenAsync(client, ProtocolClient.Form(("scope", scope)), "/connect/device"));

    public static Task<TokenResult> PollAsync(ProtocolClient device, TestClient client, string deviceCode) =>
        device.TokenAsync(client, ProtocolClient.Form(("grant_type", GrantType), ("device_code", deviceCode)));

    /// <summary>The verification page for <paramref name="userCode"/>, as the signed-in person sees it.</summary>
    public static Task<string> OpenAsync(HttpClient person, string userCode) =>
        person.GetStringAsync(QueryHelpers.AddQueryString("/connect/verify", "user_code", userCode));

    /// <summary>Opens the page for the code and answers it; returns where the page sent the person.</summary>
    public static async Task<Uri?> DecideAsync(HttpClient person, string userCode, bool allow)
    {
        var page = await OpenAsync(person, userCode);
        var response = await person.PostAsync("/connect/verify", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user_code"] = userCode, ["decision"] = allow ? "allow" : "deny", ["__RequestVerificationToken"] = CodeFlow.Antiforgery(page),
        }));
        return response.Headers.Location;
    }

    public static string Error(TokenResult result) => result.Json.ValueKind == JsonValueKind.Object ? result.Error ?? "" : "";
}
