using System.Security.Cryptography;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Keys;

/// <summary>
/// Reads the keys from the database into the <see cref="KeyRing"/>, creating what is due first: a signing key of the
/// configured algorithm (and an RS256 one for id_tokens, which OIDC clients expect in RS256 unless they registered
/// otherwise), and a symmetric encryption key for refresh tokens and codes (AES key wrap: no RSA operation per
/// refresh). Each series rotates on <see cref="TokenOptions.SigningKeyRotation"/>: a successor is created
/// <see cref="TokenOptions.SigningKeyPublishAhead"/> before it takes over, so every node knows it before any token
/// uses it, and a retired key stays until what it signed or encrypted has expired. Nodes creating keys at the same
/// moment queue on a lock and re-check, so they end up with one key set. A node that creates keys tells the others in
/// the same transaction (<see cref="KeyRingChanges"/>), so a key created active at once is known everywhere at once.
/// </summary>
internal sealed class KeyRingLoader(IServiceScopeFactory scopes, IDataProtectionProvider protection, KeyRing ring, IOptions<TokenOptions> options,
    ServerMetrics metrics, TimeProvider time, ILogger<KeyRingLoader> logger) : IDisposable
{
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(30);
    // A key made because none was active counts as active this long before its creation, so that a node whose clock is
    // a little behind (or that read the time before waiting for the lock) sees it active instead of making another.
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromMinutes(1);
    // Any fixed number: names the advisory lock under which one node at a time creates keys.
    private const long PostgresLockKey = 7_262_013_002;
    private readonly IDataProtector protector = protection.CreateProtector("Identity.Server.ProtocolKeys.v1");
    private readonly SemaphoreSlim reload = new(1, 1);
    // Counts the notices that another node created keys; a reload started after the latest one has read them.
    private long notices;
    private long noticesRead;

    /// <summary>Whether the ring must be read again before it answers: something in it is due, or another node created keys.</summary>
    public bool IsStale => ring.Current is not { } set || set.FreshUntil <= time.GetUtcNow() || Interlocked.Read(ref notices) != Interlocked.Read(ref noticesRead);

    /// <summary>Another node created keys: the next <see cref="GetAsync"/> reads them, whatever the ring's fresh-until time.</summary>
    public void MarkStale() => Interlocked.Increment(ref notices);

    /// <summary>The current keys, reloaded first when they are due (a key activates or retires, five minutes passed, or another node created keys).</summary>
    public async ValueTask<KeySet> GetAsync(CancellationToken ct)
    {
        if (!IsStale) return ring.Current!;
        await reload.WaitAsync(ct);
        try
        {
            if (!IsStale) return ring.Current!;
            var now = time.GetUtcNow();
            Interlocked.Exchange(ref noticesRead, Interlocked.Read(ref notices));
            KeySet set;
            try
            {
                set = await LoadAsync(now, ct);
            }
            catch (Exception exception) when (ring.Current is { } last && exception is not OperationCanceledException)
            {
                // A key this node cannot read (one protected under a Data Protection key it does not have yet, written
                // by a node started with another certificate) must not turn every request into a 500: the keys already
                // loaded still sign and verify, and other nodes still accept them. Readiness says so; a retry follows.
                logger.KeysNotReloaded(exception);
                set = last with { FreshUntil = now + RetryInterval };
                ring.Publish(set, exception.Message);
                return set;
            }
            ring.Publish(set);
            return set;
        }
        finally
        {
            reload.Release();
        }
    }

    private IEnumerable<(string Use, string Algorithm)> Series()
    {
        yield return (KeyUses.Signing, SecurityAlgorithms.RsaSha256);
        if (options.Value.SigningAlgorithm != SecurityAlgorithms.RsaSha256) yield return (KeyUses.Signing, options.Value.SigningAlgorithm);
        yield return (KeyUses.Encryption, SecurityAlgorithms.Aes256KW);
    }

    private async Task<KeySet> LoadAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var rows = await LiveRowsAsync(db, now, ct);
        // Protecting and unprotecting may read or write Data Protection's key ring, synchronously (IXmlRepository has no
        // async form). With socket completions inline (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1) a database await
        // can resume on a socket engine's thread, and a synchronous read of a socket that engine serves then waits for
        // that very thread until the command times out: start-up failed that way (InlineSocketCompletionsTests). So
        // each stretch of protection work starts on a thread-pool thread.
        await Task.Yield();
        if (Series().Any(series => IsDue(rows, series, now)))
        {
            await CreateDueKeysAsync(db, now, ct);
            rows = await LiveRowsAsync(db, now, ct);
            await Task.Yield();
        }

        var changes = rows.SelectMany(r => new[] { r.ActivatesAt, r.RetiresAt - options.Value.SigningKeyPublishAhead, r.ExpiresAt }).Where(t => t > now);
        var freshUntil = changes.Append(now + ReloadInterval).Min();
        // The same keys in the same roles: keep the loaded credentials (and the signature providers cached for them).
        var fingerprint = string.Join(';', rows.OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => $"{r.Id}:{(r.ActivatesAt <= now && r.RetiresAt > now ? "active" : "known")}"));
        if (ring.Current is { } current && current.Fingerprint == fingerprint) return current with { FreshUntil = freshUntil };

        var activeSigning = new Dictionary<string, SigningCredentials>(StringComparer.Ordinal);
        var signing = new List<SigningCredentials>();
        var encryption = new List<EncryptingCredentials>();
        EncryptingCredentials? activeEncryption = null;
        // Newest first: the active key of each series comes before the ones it replaced.
        foreach (var row in rows.OrderByDescending(r => r.ActivatesAt))
        {
            var isActive = row.ActivatesAt <= now && row.RetiresAt > now;
            if (row.Use == KeyUses.Encryption)
            {
                var credentials = new EncryptingCredentials(new SymmetricSecurityKey(Unprotect(row)) { KeyId = row.Id },
                    SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512);
                encryption.Add(credentials);
                if (isActive && activeEncryption is null) activeEncryption = credentials;
            }
            else
            {
                var credentials = new SigningCredentials(PrivateKey(row), row.Algorithm);
                signing.Add(credentials);
                if (isActive) activeSigning.TryAdd(row.Algorithm, credentials);
            }
        }
        if (activeEncryption is null || Series().Any(s => s.Use == KeyUses.Signing && !activeSigning.ContainsKey(s.Algorithm)))
            throw new InvalidOperationException("No active key for every series after creating the due ones.");
        // Active keys first, so that OpenIddict's own choice (the first of each list) is ours too.
        signing = [.. activeSigning.Values, .. signing.Where(s => !activeSigning.ContainsValue(s))];
        encryption = [activeEncryption, .. encryption.Where(e => e != activeEncryption)];

        return new KeySet(activeSigning, signing, activeEncryption, encryption, freshUntil, fingerprint);
    }

    private static Task<List<ProtocolKey>> LiveRowsAsync(ServerDbContext db, DateTimeOffset now, CancellationToken ct) =>
        db.ProtocolKeys.AsNoTracking().Where(k => k.ExpiresAt > now).ToListAsync(ct);

    /// <summary>Due when none of the series is active, or the active one retires within the publish-ahead with no successor.</summary>
    private bool IsDue(IReadOnlyList<ProtocolKey> rows, (string Use, string Algorithm) series, DateTimeOffset now)
    {
        var mine = rows.Where(r => r.Use == series.Use && r.Algorithm == series.Algorithm).ToList();
        var active = mine.Where(r => r.ActivatesAt <= now && r.RetiresAt > now).MaxBy(r => r.RetiresAt);
        if (active is null) return true;
        return active.RetiresAt - now <= options.Value.SigningKeyPublishAhead && !mine.Any(r => r.ActivatesAt >= active.RetiresAt);
    }

    private async Task CreateDueKeysAsync(ServerDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var o = options.Value;
        // Protect before the transaction: protecting may write the Data Protection key ring to this same database,
        // which SQLite's write lock would block.
        var material = Series().ToDictionary(s => s, s => Convert.ToBase64String(protector.Protect(Generate(s.Algorithm))));
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({PostgresLockKey})", ct);
        now = time.GetUtcNow(); // after the wait: another node may have made the keys meanwhile
        var rows = await LiveRowsAsync(db, now, ct);
        var created = new List<ProtocolKey>();
        foreach (var series in Series().Where(s => IsDue(rows, s, now)))
        {
            var active = rows.Where(r => r.Use == series.Use && r.Algorithm == series.Algorithm && r.ActivatesAt <= now && r.RetiresAt > now)
                .MaxBy(r => r.RetiresAt);
            var activatesAt = active?.RetiresAt ?? now - ClockTolerance;
            var retiresAt = activatesAt + o.SigningKeyRotation;
            created.Add(new ProtocolKey
            {
                Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12)),
                Use = series.Use,
                Algorithm = series.Algorithm,
                ProtectedKey = material[series],
                CreatedAt = now,
                ActivatesAt = activatesAt,
                RetiresAt = retiresAt,
                // A signing key verifies until a session started just before it retired can end (an id_token_hint is
                // checked at logout); an encryption key decrypts until the last refresh token it sealed expires.
                ExpiresAt = retiresAt + o.RefreshTokenAbsoluteLifetime + TimeSpan.FromDays(1),
            });
        }
        db.ProtocolKeys.AddRange(created);
        await db.SaveChangesAsync(ct);
        // Delivered at the commit, to every node listening: a key active at once must verify there at once.
        if (created.Count > 0 && db.Database.IsNpgsql()) await KeyRingChanges.NotifyAsync(db, ct);
        await transaction.CommitAsync(ct);
        foreach (var key in created)
        {
            logger.KeyCreated(key.Id, key.Use, key.Algorithm, key.ActivatesAt);
            if (key.Use == KeyUses.Signing) metrics.SigningKeyRotated(key.Algorithm);
        }
    }

    private static byte[] Generate(string algorithm)
    {
        switch (algorithm)
        {
            case SecurityAlgorithms.Aes256KW:
                return RandomNumberGenerator.GetBytes(32);
            case SecurityAlgorithms.EcdsaSha256:
                using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256)) return ec.ExportPkcs8PrivateKey();
            default:
                using (var rsa = RSA.Create(2048)) return rsa.ExportPkcs8PrivateKey();
        }
    }

    private byte[] Unprotect(ProtocolKey row) => protector.Unprotect(Convert.FromBase64String(row.ProtectedKey));

    private SecurityKey PrivateKey(ProtocolKey row)
    {
        var pkcs8 = Unprotect(row);
        if (row.Algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            return new ECDsaSecurityKey(ec) { KeyId = row.Id };
        }
        var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        return new RsaSecurityKey(rsa) { KeyId = row.Id };
    }

    public void Dispose() => reload.Dispose();
}
