using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// A private certificate authority made for one test, and a server certificate it issued, as PEM files: the SMTP
/// servers of the TLS tests present the certificate, and the server under test is told to trust the authority the way
/// an operator with a private CA would (<c>Email:Smtp:TrustedCertificatePath</c>), not by turning validation off.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("identity-smtp-tls");

    /// <summary>The authority's certificate (PEM): what the server under test is told to trust.</summary>
    public string AuthorityPath => Path.Combine(directory.FullName, "ca.pem");
    /// <summary>The server certificate (PEM), issued by the authority for <see cref="HostNames"/>.</summary>
    public string CertificatePath => Path.Combine(directory.FullName, "server.pem");
    /// <summary>The server certificate's private key (PKCS #8 PEM).</summary>
    public string KeyPath => Path.Combine(directory.FullName, "server-key.pem");
    public IReadOnlyList<string> HostNames { get; }
    /// <summary>The server certificate with its key, for a TLS server written in .NET.</summary>
    public X509Certificate2 Certificate { get; }

    /// <param name="hostNames">Host names and IP addresses the server certificate is valid for.</param>
    public TestCertificates(params string[] hostNames)
    {
        HostNames = hostNames.Length > 0 ? hostNames : ["localhost", "127.0.0.1"];
        var now = DateTimeOffset.UtcNow;
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest($"CN=Identity Server test CA {Guid.NewGuid():N}", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        using var authority = authorityRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest($"CN={HostNames[0]}", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in HostNames)
            if (IPAddress.TryParse(name, out var address)) names.AddIpAddress(address); else names.AddDnsName(name);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var issued = serverRequest.Create(authority, now.AddHours(-1), now.AddHours(12), RandomNumberGenerator.GetBytes(16));
        Certificate = issued.CopyWithPrivateKey(serverKey);

        File.WriteAllText(AuthorityPath, authority.ExportCertificatePem());
        File.WriteAllText(CertificatePath, issued.ExportCertificatePem());
        File.WriteAllText(KeyPath, serverKey.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        Certificate.Dispose();
        directory.Delete(recursive: true);
    }
}
