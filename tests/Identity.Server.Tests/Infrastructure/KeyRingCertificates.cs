using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>A PFX file with a password, as an operator would give the server for <c>DataProtection:Certificate</c>.</summary>
public sealed record TestCertificate(string Path, string Password)
{
    /// <summary>The settings that hand this certificate to a server.</summary>
    public Dictionary<string, string?> Settings(string section = "DataProtection:Certificate") => new()
    {
        [$"{section}:Path"] = Path,
        [$"{section}:Password"] = Password,
    };
}

public static class KeyRingCertificates
{
    private static readonly string Directory = System.IO.Directory.CreateTempSubdirectory("identity-certs").FullName;

    static KeyRingCertificates() => AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>The certificate every test host is given unless a test says otherwise: the production path, in every test.</summary>
    public static TestCertificate Shared { get; } = Create("shared");

    /// <summary>A new self-signed RSA certificate, exported with a password.</summary>
    public static TestCertificate Create(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=identity-test-{name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var password = $"pw-{Guid.NewGuid():N}";
        var path = System.IO.Path.Combine(Directory, $"{name}-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return new TestCertificate(path, password);
    }
}
