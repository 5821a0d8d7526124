using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;

namespace Identity.Server.Hosting;

/// <summary>Section "DataProtection" (SPEC §5): how the key ring is protected at rest.</summary>
public sealed class KeyProtectionOptions
{
    public const string SectionName = "DataProtection";

    /// <summary>A PFX whose RSA key encrypts every new key of the ring (and so, through the ring, the signing keys' private parts).</summary>
    public CertificateFileOptions Certificate { get; set; } = new();

    /// <summary>
    /// Certificates that only decrypt: the ones the ring's older keys were encrypted with, kept while a certificate is
    /// rolled (docs/operations.md).
    /// </summary>
    public List<CertificateFileOptions> PreviousCertificates { get; set; } = [];

    /// <summary>Outside Development the server refuses to start without <see cref="Certificate"/> unless this is true.</summary>
    public bool AllowUnprotectedKeys { get; set; }
}

/// <summary>A PFX file (relative paths are from the application's folder) and its password.</summary>
public sealed class CertificateFileOptions
{
    public string? Path { get; set; }
    public string? Password { get; set; }
}

/// <summary>
/// The Data Protection key ring lives in the database, so that every node shares it (<see cref="DatabaseXmlRepository"/>),
/// encrypted with the configured certificate's key. Whatever is protected through it — the signing keys' private parts,
/// cookies, anti-forgery tokens — is therefore unreadable from the database or a backup alone. Nodes given the same
/// certificate read each other's keys. Certificates are loaded here, at registration: a missing file or a wrong
/// password stops start-up naming the setting, before anything touches the database.
/// </summary>
internal static class DataProtectionSetup
{
    public const string ApplicationName = "Identity.Server";

    /// <param name="servesRequests">
    /// False for the command-line verbs (<c>migrate</c>, <c>schema</c>, <c>prune</c>), which touch no key: a migration
    /// job needs no certificate. A certificate that is configured is still loaded, and must open.
    /// </param>
    public static WebApplicationBuilder AddDataProtectionKeyRing(this WebApplicationBuilder builder, bool servesRequests = true)
    {
        var options = builder.Configuration.GetSection(KeyProtectionOptions.SectionName).Get<KeyProtectionOptions>() ?? new KeyProtectionOptions();
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName(ApplicationName);
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IServiceScopeFactory>((o, scopes) => o.XmlRepository = new DatabaseXmlRepository(scopes));

        var section = $"{KeyProtectionOptions.SectionName}:{nameof(KeyProtectionOptions.Certificate)}";
        if (string.IsNullOrWhiteSpace(options.Certificate.Path))
        {
            if (options.PreviousCertificates.Count > 0)
                throw new InvalidOperationException($"{KeyProtectionOptions.SectionName}:PreviousCertificates only decrypt: set {section}:Path too.");
            if (servesRequests && !builder.Environment.IsDevelopment() && !options.AllowUnprotectedKeys)
                throw new InvalidOperationException(
                    $"The Data Protection key ring (which protects the signing keys' private parts) would be stored unencrypted in the database. " +
                    $"Set {section}:Path (and {section}:Password) to a PFX file whose key encrypts it, or set " +
                    $"{KeyProtectionOptions.SectionName}:{nameof(KeyProtectionOptions.AllowUnprotectedKeys)}=true to accept unencrypted keys. See docs/operations.md.");
            return builder;
        }

        var root = builder.Environment.ContentRootPath;
        dataProtection.ProtectKeysWithCertificate(Load(options.Certificate, section, root));
        var previous = options.PreviousCertificates
            .Select((certificate, i) => Load(certificate, $"{KeyProtectionOptions.SectionName}:PreviousCertificates:{i}", root)).ToArray();
        if (previous.Length > 0) dataProtection.UnprotectKeysWithAnyCertificate(previous);
        return builder;
    }

    /// <summary>
    /// ASP.NET Core reads the key ring once as the host starts, to have it ready. Here the ring is in the database, and
    /// a node may start before its database is migrated (<c>Database:MigrateOnStartup=false</c>, the <c>migrate</c> step
    /// afterwards): that read then fails and logs three errors for a table that is simply not there yet. The ring is
    /// read on first use instead, which on a migrated database is the signing keys' preparation before the host starts
    /// (<c>PrepareProtocolAsync</c>), so nothing is served before it is read. Called after every registration: Identity,
    /// anti-forgery and Razor Pages each add data protection again, and with it this start-up read.
    /// </summary>
    public static WebApplicationBuilder ReadKeyRingOnFirstUse(this WebApplicationBuilder builder)
    {
        const string eagerRead = "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService";
        foreach (var descriptor in builder.Services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.FullName == eagerRead).ToList())
            builder.Services.Remove(descriptor);
        return builder;
    }

    private static X509Certificate2 Load(CertificateFileOptions file, string section, string root)
    {
        if (string.IsNullOrWhiteSpace(file.Path)) throw new InvalidOperationException($"{section}:Path is required.");
        var path = Path.GetFullPath(file.Path, root);
        if (!File.Exists(path)) throw new InvalidOperationException($"{section}:Path: no certificate file at '{path}'.");
        X509Certificate2 certificate;
        try
        {
            // Ephemeral: the private key stays in this process's memory (macOS has no such key set).
            var flags = OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, file.Password, flags);
        }
        catch (CryptographicException exception)
        {
            throw new InvalidOperationException(
                $"{section}: '{path}' could not be opened as a PFX with the password in {section}:Password (wrong password, or not a PFX file): {exception.Message}",
                exception);
        }
        using var key = certificate.GetRSAPrivateKey();
        if (key is null)
            throw new InvalidOperationException($"{section}: '{path}' holds no RSA private key; the key ring is encrypted with an RSA certificate's key.");
        return certificate;
    }
}
