using System.Security.Cryptography;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Issuance;

/// <summary>
/// The signing keys every node shares through the database. Keys are generated on first use and rotated on a
/// schedule: a successor is published <see cref="TokenOptions.SigningKeyPublishAhead"/> before it starts signing, and
/// a retired key stays in JWKS until every token it signed has expired. Loaded key material is kept in memory and
/// reloaded every few minutes, so no request parses a key.
/// </summary>
internal sealed class SigningKeyStore(IServiceScopeFactory scopes, IDataProtectionProvider protection, IOptions<TokenOptions> options,
    TimeProvider time, ILogger<SigningKeyStore> logger) : IDisposable
{
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromMinutes(5);
    // Any fixed number: names the advisory lock under which one node at a time creates keys.
    private const long PostgresLockKey = 7_262_013_002;
    private readonly IDataProtector protector = protection.CreateProtector("Identity.Server.SigningKeys.v1");
    private readonly SemaphoreSlim reload = new(1, 1);
    private KeySet? current;

    public async ValueTask<KeySet> GetAsync(CancellationToken ct)
    {
        var set = Volatile.Read(ref current);
        if (set is not null && set.FreshUntil > time.GetUtcNow()) return set;
        await reload.WaitAsync(ct);
        try
        {
            set = Volatile.Read(ref current);
            var now = time.GetUtcNow();
            if (set is not null && set.FreshUntil > now) return set;
            set = await LoadAsync(now, ct);
            Volatile.Write(ref current, set);
            return set;
        }
        finally
        {
            reload.Release();
        }
    }

    private async Task<KeySet> LoadAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var rows = await PublishedRowsAsync(db, now, ct);
        if (NeedsNewKey(rows, now))
        {
            await CreateKeyAsync(db, now, ct);
            rows = await PublishedRowsAsync(db, now, ct);
        }
        var keys = rows.Select(Materialize).ToList();
        var candidates = keys.Where(k => k.Row.Algorithm == options.Value.SigningAlgorithm && k.Row.ActivatesAt <= now && k.Row.RetiresAt > now).ToList();
        if (candidates.Count == 0) throw new InvalidOperationException("No signing key is active.");
        var signing = candidates.MaxBy(k => k.Row.ActivatesAt);
        var nextChange = rows.Select(r => r.ActivatesAt).Concat(rows.Select(r => r.RetiresAt)).Where(t => t > now).DefaultIfEmpty(now + ReloadInterval).Min();
        var freshUntil = new[] { now + ReloadInterval, nextChange, signing.Row.RetiresAt - options.Value.SigningKeyPublishAhead }
            .Where(t => t > now).DefaultIfEmpty(now + TimeSpan.FromSeconds(1)).Min();
        return new KeySet(new SigningCredentials(signing.Private, signing.Row.Algorithm), keys.Select(k => k.Public).ToList(), freshUntil);
    }

    private static Task<List<SigningKey>> PublishedRowsAsync(ServerDbContext db, DateTimeOffset now, CancellationToken ct) =>
        db.SigningKeys.AsNoTracking().Where(k => k.ExpiresAt > now).OrderBy(k => k.ActivatesAt).ToListAsync(ct);

    /// <summary>A key is due when none signs now, or the signing one retires within the publish-ahead with no successor.</summary>
    private bool NeedsNewKey(IReadOnlyList<SigningKey> rows, DateTimeOffset now)
    {
        var algorithm = options.Value.SigningAlgorithm;
        var mine = rows.Where(r => r.Algorithm == algorithm).ToList();
        var active = mine.Where(r => r.ActivatesAt <= now && r.RetiresAt > now).MaxBy(r => r.RetiresAt);
        if (active is null) return true;
        return active.RetiresAt - now <= options.Value.SigningKeyPublishAhead && !mine.Any(r => r.ActivatesAt >= active.RetiresAt - TimeSpan.FromSeconds(1) && r.Id != active.Id);
    }

    private async Task CreateKeyAsync(ServerDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var o = options.Value;
        // Protect before the transaction: protecting may write the Data Protection key ring to this same database,
        // which SQLite's write lock would block.
        var protectedKey = Convert.ToBase64String(protector.Protect(GeneratePkcs8(o.SigningAlgorithm)));
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({PostgresLockKey})", ct);
        var rows = await PublishedRowsAsync(db, now, ct);
        if (!NeedsNewKey(rows, now)) return; // another node created it while this one waited for the lock

        var active = rows.Where(r => r.Algorithm == o.SigningAlgorithm && r.ActivatesAt <= now && r.RetiresAt > now).MaxBy(r => r.RetiresAt);
        var activatesAt = active?.RetiresAt ?? now;
        var retiresAt = activatesAt + o.SigningKeyRotation;
        var key = new SigningKey
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12)),
            Algorithm = o.SigningAlgorithm,
            ProtectedPrivateKey = protectedKey,
            CreatedAt = now,
            ActivatesAt = activatesAt,
            RetiresAt = retiresAt,
            // Past retirement the key still verifies what it signed: the longest access token a client may have, plus a day.
            ExpiresAt = retiresAt + Clients.ClientDefinitionValidator.MaximumAccessTokenLifetime + TimeSpan.FromDays(1),
        };
        db.SigningKeys.Add(key);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.SigningKeyCreated(key.Id, key.Algorithm, key.ActivatesAt);
    }

    private static byte[] GeneratePkcs8(string algorithm)
    {
        if (algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return ec.ExportPkcs8PrivateKey();
        }
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKey();
    }

    private (SigningKey Row, SecurityKey Private, PublishedKey Public) Materialize(SigningKey row)
    {
        var pkcs8 = protector.Unprotect(Convert.FromBase64String(row.ProtectedPrivateKey));
        if (row.Algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            var parameters = ec.ExportParameters(includePrivateParameters: false);
            var publicKey = new ECDsaSecurityKey(ECDsa.Create(parameters)) { KeyId = row.Id };
            var jwk = new JsonWebKey
            {
                Kty = "EC", Use = "sig", Kid = row.Id, Alg = row.Algorithm, Crv = "P-256",
                X = Base64UrlEncoder.Encode(parameters.Q.X), Y = Base64UrlEncoder.Encode(parameters.Q.Y),
            };
            return (row, new ECDsaSecurityKey(ec) { KeyId = row.Id }, new PublishedKey(row.Id, row.Algorithm, publicKey, jwk));
        }
        var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        var rsaPublic = rsa.ExportParameters(includePrivateParameters: false);
        var rsaJwk = new JsonWebKey
        {
            Kty = "RSA", Use = "sig", Kid = row.Id, Alg = row.Algorithm,
            N = Base64UrlEncoder.Encode(rsaPublic.Modulus), E = Base64UrlEncoder.Encode(rsaPublic.Exponent),
        };
        return (row, new RsaSecurityKey(rsa) { KeyId = row.Id }, new PublishedKey(row.Id, row.Algorithm, new RsaSecurityKey(rsaPublic) { KeyId = row.Id }, rsaJwk));
    }

    public void Dispose() => reload.Dispose();
}

/// <summary>What signs now, and every key a verifier may still meet.</summary>
internal sealed record KeySet(SigningCredentials Signing, IReadOnlyList<PublishedKey> Published, DateTimeOffset FreshUntil)
{
    public SecurityKey? Find(string? kid) => Published.FirstOrDefault(k => k.KeyId == kid)?.Key;

    /// <summary>
    /// "Signed by one of our published keys, issued by us": audience and lifetime are left to each caller, which knows
    /// what it needs (an expired id_token is still a good logout hint; access tokens are timed on the server's clock).
    /// </summary>
    public TokenValidationParameters VerificationParameters(string issuer) => new()
    {
        ValidIssuer = issuer,
        ValidateAudience = false,
        ValidateLifetime = false,
        IssuerSigningKeyResolver = (_, _, kid, _) => Find(kid) is { } key ? [key] : [],
    };
}

internal sealed record PublishedKey(string KeyId, string Algorithm, SecurityKey Key, JsonWebKey Jwk);
