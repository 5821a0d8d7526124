using System.Net;
using System.Text.RegularExpressions;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Pages;

/// <summary>The registration page over HTTP: errors sit under the field they are about, tied to it (WCAG 1.3.1, 3.3.1).</summary>
[Collection(ServerCollection.Name)]
public sealed partial class RegisterPageTests(ServerFixture server)
{
    [Fact]
    public async Task ATakenAddress_IsMarkedOnTheEmailField()
    {
        var taken = await new TestData(server).UserAsync();

        var page = await PostAsync(new() { ["Email"] = taken.Email, ["Password"] = "a long enough passphrase" });

        Assert.Matches(EmailInput(), page);
        Assert.Matches(new Regex(@"<div class=""field-error"" id=""email-error"">\s*<p>An account with this email already exists\.</p>"), page);
        Assert.DoesNotContain(@"id=""password-error""", page);
    }

    [Fact]
    public async Task AnInvalidName_IsMarkedOnItsField_InTheLabelsWords()
    {
        var page = await PostAsync(new() { ["Email"] = $"{Guid.NewGuid():N}@example.test", ["Password"] = "a long enough passphrase", ["FirstName"] = "Al\u0007ice" });

        Assert.Contains(@"aria-describedby=""first-error""", page);
        Assert.Contains("The first name field", page);
        Assert.DoesNotContain("FirstName field", page);
    }

    private async Task<string> PostAsync(Dictionary<string, string> form)
    {
        var browser = server.HttpsClient();
        form["__RequestVerificationToken"] = CodeFlow.Antiforgery(await browser.GetStringAsync("/account/register"));
        var response = await browser.PostAsync("/account/register", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex(@"<input id=""email""[^>]*aria-invalid=""true""[^>]*aria-describedby=""email-error""")]
    private static partial Regex EmailInput();
}
