using System.Net;
using Identity.Server.Email;
using Identity.Server.Protocol;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// The account emails: links to the pages on the issuer's origin (SPEC §3, §4), as plain text and HTML, stating how long
/// the link works as configured (<c>Accounts:EmailConfirmationLinkLifetime</c>, <c>PasswordResetLinkLifetime</c>).
/// </summary>
internal sealed class AccountEmails(IssuerUri issuer, IOptions<AccountsOptions> options)
{
    public EmailMessage Confirmation(string to, string userId, string token) => Build(to,
        "Confirm your email address",
        $"Confirm that this address is yours by opening the link below. It works once, for {InWords(options.Value.EmailConfirmationLinkLifetime)}.",
        Link("account/confirm-email", userId, token), "Confirm my address");

    public EmailMessage PasswordReset(string to, string userId, string token) => Build(to,
        "Reset your password",
        $"Someone asked to reset the password of the account with this address. If it was you, open the link below; it works once, for {InWords(options.Value.PasswordResetLinkLifetime)}. If not, ignore this message.",
        Link("account/reset-password", userId, token), "Choose a new password");

    /// <summary>"24 hours", "1 hour and 30 minutes", "3 days", "6 seconds": up to 48 hours in hours, as links are usually described.</summary>
    internal static string InWords(TimeSpan lifetime)
    {
        var (days, hours) = lifetime.TotalHours <= 48 ? (0, (int)lifetime.TotalHours) : (lifetime.Days, lifetime.Hours);
        var parts = new[] { (days, "day"), (hours, "hour"), (lifetime.Minutes, "minute"), (lifetime.Seconds, "second") }
            .Where(p => p.Item1 > 0).Select(p => p.Item1 == 1 ? $"1 {p.Item2}" : $"{p.Item1} {p.Item2}s").ToList();
        return parts.Count switch
        {
            0 => "less than a second",
            1 => parts[0],
            _ => $"{string.Join(", ", parts[..^1])} and {parts[^1]}",
        };
    }

    private string Link(string page, string userId, string token) =>
        $"{issuer.Endpoint(page)}?userId={Uri.EscapeDataString(userId)}&token={Uri.EscapeDataString(token)}";

    /// <summary>
    /// Plain text for every client, and simple HTML (inline styles only: mail clients drop style sheets) with the link as
    /// a button and, for clients that do not render it, as text to copy.
    /// </summary>
    private static EmailMessage Build(string to, string subject, string text, string link, string action)
    {
        var (html, href) = (WebUtility.HtmlEncode(text), WebUtility.HtmlEncode(link));
        return new EmailMessage(to, subject,
            $"{text}\r\n\r\n{link}\r\n",
            $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode(subject)}</title></head>
            <body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a;">
            <p>{html}</p>
            <p><a href="{href}" style="display: inline-block; padding: 10px 18px; border-radius: 4px; background: #1f5fbf; color: #ffffff; text-decoration: none;">{WebUtility.HtmlEncode(action)}</a></p>
            <p style="font-size: 0.9em; color: #555555;">If the button does not work, copy this address into your browser:<br><a href="{href}">{href}</a></p>
            </body></html>
            """);
    }
}
