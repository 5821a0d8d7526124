using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Server.Email;

/// <summary>
/// Whether the SMTP server's certificate is trusted: by the system's roots as usual, or, when
/// <c>Email:Smtp:TrustedCertificatePath</c> names them, by extra anchors such as a private CA. A certificate is never
/// accepted on a wrong host name, outside its validity dates or without the server-authentication usage, whoever issued it.
/// </summary>
internal sealed class SmtpServerTrust
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private readonly X509Certificate2Collection anchors;

    private SmtpServerTrust(X509Certificate2Collection anchors) => this.anchors = anchors;

    /// <summary>Null without extra anchors: MailKit's own validation (the system's roots, revocation checked) applies.</summary>
    public static SmtpServerTrust? Create(SmtpOptions options)
    {
        if (string.IsNullOrEmpty(options.TrustedCertificatePath)) return null;
        // The validator has loaded the file at start-up; a file broken since then is a start-up failure of its own kind.
        if (TryLoad(options.TrustedCertificatePath, out var anchors) is { } error)
            throw new InvalidOperationException($"Email:Smtp:TrustedCertificatePath: {error}");
        return new SmtpServerTrust(anchors);
    }

    /// <summary>Loads the PEM file's certificates; returns why it cannot, or null.</summary>
    public static string? TryLoad(string path, out X509Certificate2Collection certificates)
    {
        certificates = [];
        if (!File.Exists(path)) return $"no file at '{path}'.";
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (CryptographicException exception)
        {
            return $"'{path}' is not a PEM certificate file ({exception.Message}).";
        }
        return certificates.Count == 0 ? $"'{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)." : null;
    }

    /// <summary>For MailKit's <c>ServerCertificateValidationCallback</c>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None) return true; // the system's roots vouch for it
        // Only an unknown issuer can be made good by an anchor; a wrong host name or no certificate cannot.
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null) return false;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var anchored = new X509Chain();
        anchored.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        anchored.ChainPolicy.CustomTrustStore.AddRange(anchors);
        // Intermediates the server sent along with its certificate.
        if (chain is not null) anchored.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        anchored.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        // Revocation is checked where a certificate says where to look; a private CA commonly publishes no CRL, and
        // then its status is unknown rather than revoked.
        anchored.ChainPolicy.RevocationMode = X509RevocationMode.Online;
        anchored.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreEndRevocationUnknown | X509VerificationFlags.IgnoreCertificateAuthorityRevocationUnknown;
        anchored.ChainPolicy.UrlRetrievalTimeout = TimeSpan.FromSeconds(5);
        return anchored.Build(leaf);
    }
}
