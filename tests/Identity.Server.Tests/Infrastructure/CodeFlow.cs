using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// The authorization code flow as a browser drives it, over plain HTTP: sign in on the login page, then ask
/// /connect/authorize for a code (for clients that need no consent).
/// </summary>
public static partial class CodeFlow
{
    public static string NewVerifier() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Challenge(string verifier) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>A client with its own cookie jar, signed in as <paramref name="user"/>.</summary>
    public static async Task<HttpClient> SignedInAsync(WebApplicationFactory<Program> host, TestUser user)
    {
        var http = host.CreateClient(new() { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false, HandleCookies = true });
        var page = await http.GetStringAsync("/account/login");
        var antiforgery = AntiforgeryField().Match(page).Groups[1].Value;
        var response = await http.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user.UserName, ["Password"] = user.Password, ["__RequestVerificationToken"] = antiforgery,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return http;
    }

    public static async Task<(string Code, string Verifier)> IssueCodeAsync(WebApplicationFactory<Program> host, TestClient client, TestUser user,
        string redirectUri, string? nonce = null, bool withPkce = true, string scope = "openid profile offline_access")
    {
        var http = await SignedInAsync(host, user);
        var verifier = NewVerifier();
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = redirectUri, ["scope"] = scope, ["state"] = "state",
            ["nonce"] = nonce,
        };
        if (withPkce) (query["code_challenge"], query["code_challenge_method"]) = (Challenge(verifier), "S256");
        var response = await http.GetAsync(QueryHelpers.AddQueryString("/connect/authorize", query));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(redirectUri, location.ToString());
        return (QueryHelpers.ParseQuery(location.Query)["code"].ToString(), verifier);
    }

    /// <summary>
    /// Signs <paramref name="user"/> in on the login page with <paramref name="http"/>'s cookie jar, as a browser sent
    /// there with <paramref name="returnUrl"/> does, and answers where the page sends the person next.
    /// </summary>
    public static async Task<Uri> LogInAsync(HttpClient http, TestUser user, string? returnUrl)
    {
        var page = await http.GetStringAsync(QueryHelpers.AddQueryString("/account/login", "returnUrl", returnUrl ?? ""));
        var response = await http.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user.UserName, ["Password"] = user.Password, ["ReturnUrl"] = returnUrl ?? "", ["__RequestVerificationToken"] = Antiforgery(page),
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    /// <summary>The anti-forgery token of a page's form.</summary>
    public static string Antiforgery(string page)
    {
        var match = AntiforgeryField().Match(page);
        Assert.True(match.Success, "The page has no anti-forgery token.");
        return match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
    }

    [GeneratedRegex("""name="__RequestVerificationToken" type="hidden" value="([^"]+)"|value="([^"]+)"[^>]*name="__RequestVerificationToken" """)]
    private static partial Regex AntiforgeryField();
}
