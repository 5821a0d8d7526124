using System.Net;
using Identity.Server.Persistence;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// Keys at rest (SPEC §5): the Data Protection key ring — and through it the signing keys' private parts — is encrypted
/// with <c>DataProtection:Certificate</c>; outside Development the server will not start without one unless told to.
/// Every host of the suite runs in "Testing" with the shared test certificate, so the whole suite runs this path.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class KeyProtectionTests(ServerFixture server)
{
    [Fact]
    public async Task KeyRingRows_AreEncryptedWithTheCertificate()
    {
        var rows = await new TestData(server).DbAsync(db => db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync());

        Assert.NotEmpty(rows);
        Assert.All(rows, xml =>
        {
            Assert.Contains("<encryptedSecret", xml);
            Assert.Contains("EncryptedData", xml);
            Assert.DoesNotContain("<masterKey", xml); // only inside the encrypted data
        });
    }

    [Fact]
    public async Task NoCertificate_OutsideDevelopment_StopsStartUp_NamingTheSetting()
    {
        var failure = await FailureAsync(new() { ["DataProtection:AllowUnprotectedKeys"] = "false" });

        Assert.Contains("DataProtection:AllowUnprotectedKeys", failure);
        Assert.Contains("DataProtection:Certificate:Path", failure);
    }

    [Fact]
    public async Task MissingCertificateFile_StopsStartUp_NamingSettingAndPath()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.pfx");

        var failure = await FailureAsync(new() { ["DataProtection:Certificate:Path"] = missing, ["DataProtection:Certificate:Password"] = "x" });

        Assert.Contains("DataProtection:Certificate:Path", failure);
        Assert.Contains(missing, failure);
    }

    [Fact]
    public async Task WrongPassword_StopsStartUp_NamingThePasswordSetting()
    {
        var failure = await FailureAsync(new()
        {
            ["DataProtection:Certificate:Path"] = KeyRingCertificates.Shared.Path, ["DataProtection:Certificate:Password"] = "not-the-password",
        });

        Assert.Contains("DataProtection:Certificate:Password", failure);
    }

    [Fact]
    public async Task AllowUnprotectedKeys_Starts_WithTheKeyRingInClear()
    {
        var name = await server.Postgres.CreateDatabaseAsync("unprotected");
        try
        {
            await using (var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(name),
                             new Dictionary<string, string?> { ["DataProtection:AllowUnprotectedKeys"] = "true" }))
                Assert.Equal(HttpStatusCode.OK, (await node.CreateClient().GetAsync("/health/ready")).StatusCode);

            // What the certificate prevents: the key itself, readable by anyone with the database.
            await using var db = Database(server.Postgres.ConnectionString(name));
            Assert.Contains("<masterKey", (await db.DataProtectionKeys.SingleAsync()).Xml);
        }
        finally
        {
            await server.Postgres.DropDatabaseAsync(name);
        }
    }

    private static async Task<string> FailureAsync(Dictionary<string, string?> settings)
    {
        var postgres = await TestPostgres.GetAsync();
        settings["Database:MigrateOnStartup"] = "false";
        await using var node = ConfiguredServer.OnPostgres(postgres.ConnectionString("postgres"), settings);
        return StartUpFailure.Of(node);
    }

    internal static ServerDbContext Database(string connectionString) => Persistence.SchemaDriftTests.Postgres(connectionString);
}
