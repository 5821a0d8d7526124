using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Identity.Server.Tests.Accounts;

/// <summary>A confirmed account signed in through a password-grant client: the usual starting point of account tests.</summary>
public sealed record SignedInUser(string Email, string Password, string UserId, TestClient Client, TokenResult Tokens);

public static class AccountJourney
{
    public static async Task<SignedInUser> RegisterConfirmAndSignInAsync(WebApplicationFactory<Program> host, AccountApi api, string scope = "openid profile email offline_access")
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var link = await api.LinkAsync(email, "/account/confirm-email");
        await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");
        var client = await new TestData(host).ClientAsync(isPublic: true);
        var tokens = await new ProtocolClient(host.HttpsClient())
            .PasswordGrantAsync(client, new TestUser(link.UserId, email, email, TestData.DefaultPassword), scope);
        return new SignedInUser(email, TestData.DefaultPassword, link.UserId, client, tokens);
    }
}
