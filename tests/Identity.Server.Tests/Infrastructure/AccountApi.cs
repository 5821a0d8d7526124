using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>The account API as a SPA calls it, and the links that arrive by email.</summary>
public sealed partial class AccountApi(HttpClient http, MailCatcher mail)
{
    public async Task<(HttpResponseMessage Response, JsonElement Json)> SendAsync(HttpMethod method, string path, object? body = null, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (accessToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length > 0 && text[0] is '{' or '[' ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    public static string NewEmail() => $"person-{Guid.NewGuid():N}@example.test";

    public Task<(HttpResponseMessage Response, JsonElement Json)> RegisterAsync(string email, string password = TestData.DefaultPassword, string? role = null) =>
        SendAsync(HttpMethod.Post, "/api/account/register", new { email, password, firstName = "Grace", lastName = "Hopper", role });

    /// <summary>
    /// The newest link to <paramref name="page"/> emailed to <paramref name="email"/>, once at least <paramref name="count"/>
    /// such links have arrived.
    /// </summary>
    public async Task<EmailLink> LinkAsync(string email, string page, int count = 1) => (await LinksAsync(email, page, count))[^1];

    /// <summary>Every link to <paramref name="page"/> emailed to <paramref name="email"/>, oldest first, once at least <paramref name="count"/> have arrived.</summary>
    public async Task<IReadOnlyList<EmailLink>> LinksAsync(string email, string page, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var links = (await mail.MessagesAsync())
                .Where(m => m.To.Any(t => string.Equals(t.Address, email, StringComparison.OrdinalIgnoreCase)))
                .SelectMany(m => Link().Matches(m.Text ?? "").Select(match => match.Value))
                .Where(l => new Uri(l).AbsolutePath == page).ToList();
            if (links.Count >= count)
                return links.Select(l =>
                {
                    var link = new Uri(l);
                    var query = QueryHelpers.ParseQuery(link.Query);
                    return new EmailLink(link, query["userId"]!, query["token"]!);
                }).ToList();
            await Task.Delay(200);
        }
        throw new TimeoutException($"No link to {page} reached {email}.");
    }

    public async Task<int> CountMessagesAsync(string email) =>
        (await mail.MessagesAsync()).Count(m => m.To.Any(t => string.Equals(t.Address, email, StringComparison.OrdinalIgnoreCase)));

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();
}

public sealed record EmailLink(Uri Uri, string UserId, string Token);
