namespace Identity.Server.Email;

/// <summary>Section "Email" (SPEC §5).</summary>
public sealed class EmailOptions
{
    public const string SectionName = "Email";

    public string From { get; set; } = "identity@localhost";
    public SmtpOptions Smtp { get; set; } = new();
    /// <summary>Where messages go when no SMTP host is set (the <c>dotnet run</c> default).</summary>
    public string PickupDirectory { get; set; } = "mail-pickup";
}

/// <summary>"Email:Smtp". No host: messages are written to the pickup directory instead.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 25;
    /// <summary>
    /// <c>None</c>, <c>StartTls</c> (required) or <c>SslOnConnect</c>. Unset: STARTTLS when the server offers it, plain
    /// SMTP when it does not (a development catcher); set <c>StartTls</c> in production to refuse plain SMTP.
    /// </summary>
    public SmtpSecurity? Security { get; set; }
    public string? UserName { get; set; }
    public string? Password { get; set; }
    /// <summary>Default 30 seconds per message.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

public enum SmtpSecurity { None, StartTls, SslOnConnect }
