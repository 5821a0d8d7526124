using MailKit.Net.Smtp;
using MailKit.Security;

namespace Identity.Server.Email;

/// <summary>
/// Which SMTP failures a retry cannot change (RFC 5321 §4.2.1: a 5yz reply is permanent, a 4yz one transient) and
/// which it can. Only a refusal of this message — its recipient or its content — fails it for good; a refusal of the
/// sender, of our credentials or of TLS is the server's or our configuration, would refuse every message alike, and
/// is retried so that nothing queued is lost while someone fixes it.
/// </summary>
internal static class SmtpFailures
{
    public static DeliveryOutcome Classify(Exception exception) => exception switch
    {
        // A security or policy refusal (RFC 3463 enhanced status 5.7.x) of the recipient is how Postfix answers a client
        // that has not logged in ("554 5.7.1 Relay access denied"): our configuration, which would refuse every message.
        SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted } refused when IsPolicyRefusal(refused)
            => DeliveryOutcome.Deferred(Describe(refused)),
        SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted } refused
            when (int)refused.StatusCode is >= 500 and < 600 => DeliveryOutcome.Rejected(Describe(refused)),
        SmtpCommandException refused => DeliveryOutcome.Deferred(Describe(refused)),
        SslHandshakeException handshake => DeliveryOutcome.Deferred($"TLS handshake failed: {(handshake.InnerException ?? handshake).Message}"),
        AuthenticationException authentication => DeliveryOutcome.Deferred($"Authentication failed: {authentication.Message}"),
        _ => DeliveryOutcome.Deferred(exception.GetBaseException().Message),
    };

    private static bool IsPolicyRefusal(SmtpCommandException refused) => refused.Message.TrimStart().StartsWith("5.7.", StringComparison.Ordinal);

    private static string Describe(SmtpCommandException refused)
    {
        var what = refused.ErrorCode switch
        {
            SmtpErrorCode.RecipientNotAccepted => "The recipient was refused",
            SmtpErrorCode.MessageNotAccepted => "The message was refused",
            SmtpErrorCode.SenderNotAccepted => "The sender (Email:From) was refused",
            _ => "The server refused",
        };
        return $"{what}: {(int)refused.StatusCode} {refused.Message.Trim()}";
    }
}
