using System.Net;
using Identity.Server.Email;
using Identity.Server.Protocol;

namespace Identity.Server.Accounts;

/// <summary>The account emails: links to the pages on the issuer's origin (SPEC §3, §4), as plain text and HTML.</summary>
internal sealed class AccountEmails(IssuerUri issuer)
{
    public EmailMessage Confirmation(string to, string userId, string token) => Build(to,
        "Confirm your email address",
        "Confirm that this address is yours by opening the link below. It works once, for 24 hours.",
        Link("account/confirm-email", userId, token), "Confirm my address");

    public EmailMessage PasswordReset(string to, string userId, string token) => Build(to,
        "Reset your password",
        "Someone asked to reset the password of the account with this address. If it was you, open the link below; it works once, for one hour. If not, ignore this message.",
        Link("account/reset-password", userId, token), "Choose a new password");

    private string Link(string page, string userId, string token) =>
        $"{issuer.Endpoint(page)}?userId={Uri.EscapeDataString(userId)}&token={Uri.EscapeDataString(token)}";

    private static EmailMessage Build(string to, string subject, string text, string link, string action) => new(
        to, subject,
        $"{text}\r\n\r\n{link}\r\n",
        $"""
        <!DOCTYPE html><html lang="en"><body>
        <p>{WebUtility.HtmlEncode(text)}</p>
        <p><a href="{WebUtility.HtmlEncode(link)}">{WebUtility.HtmlEncode(action)}</a></p>
        </body></html>
        """);
}
