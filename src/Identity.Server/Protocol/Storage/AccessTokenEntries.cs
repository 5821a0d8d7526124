using System.Collections.Concurrent;
using Identity.Server.Accounts;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// The node's copies of access tokens' entries as read by id (<see cref="TokenQueries.ById"/>: the token, its
/// authorization and its person), so that introspection and userinfo, which read one on every request, skip the
/// database. Kept only while <see cref="RowChanges"/> hears PostgreSQL's notices of changed rows: a trigger on the
/// token, authorization and person tables notifies every node of each update or delete, whatever made it, and the
/// entries that row is part of are dropped on arrival. A revocation made through the protocol also waits until every
/// listening node has dropped them before it answers (<see cref="RowChanges.AwaitPeersAsync"/>), so a revoked token is
/// refused at once on every node.
/// <para>
/// A read that started before a notice arrived is not kept: its row may be the one the notice replaced. Notices are
/// counted; each key's stripe remembers the count at its last notice, and an entry is kept only if none of its keys'
/// stripes moved since its read began. Requests get copies: the stored entities are never handed out, so nothing a
/// request sets on its rows (navigations, EF's tracking) reaches another.
/// </para>
/// </summary>
internal sealed class AccessTokenEntries(TimeProvider time)
{
    /// <summary>At most this many entries; past it new ones are not kept until expiry or notices make room.</summary>
    internal const int Capacity = 20_000;

    /// <summary>However long the token lives, an entry is read again after this: a bound on any notice never heard.</summary>
    internal static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private const int Stripes = 1024;
    private readonly ConcurrentDictionary<Guid, Entry> entries = new();
    // Writes (keeping, dropping, notices) take the gate, so a notice either precedes a keep (which then sees its
    // stripe moved) or drops what the keep stored. Reads take nothing.
    private readonly Lock gate = new();
    private readonly long[] stripes = new long[Stripes];
    // The authorization and person ids of the kept entries, with how many each: a notice about any other such row
    // (every row a prune deletes) costs no walk over the entries.
    private readonly Dictionary<string, int> owners = new(StringComparer.Ordinal);
    private long notices;

    private sealed record Entry(TokenRead Read, string? AuthorizationId, string? UserId, DateTimeOffset ExpiresAt);

    /// <summary>Whether entries are kept: set by <see cref="RowChanges"/> while it listens (PostgreSQL only).</summary>
    public bool Enabled { get; private set; }

    public int Count => entries.Count;

    /// <summary>The notice count a read begins at; pass it to <see cref="Keep"/>.</summary>
    public long Begin() => Volatile.Read(ref notices);

    /// <summary>A copy of the entry for this token id, if kept and not expired.</summary>
    public TokenRead? Get(Guid id)
    {
        if (!Enabled || !entries.TryGetValue(id, out var entry)) return null;
        if (entry.ExpiresAt <= time.GetUtcNow())
        {
            lock (gate) if (entries.TryGetValue(id, out var current) && current == entry) Drop(id);
            return null;
        }
        return Copy(entry.Read);
    }

    /// <summary>Keeps a copy of an access token's entry read since <paramref name="begun"/>, unless a notice about any of its rows came since.</summary>
    public void Keep(TokenRead read, long begun)
    {
        var token = read.Token;
        if (!Enabled || !read.Untracked || token.Type != TokenTypeIdentifiers.AccessToken || entries.Count >= Capacity) return;
        var now = time.GetUtcNow();
        var expires = now + MaxAge;
        if (token.ExpirationDate is { } at)
        {
            var tokenExpiry = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
            if (tokenExpiry <= now) return;
            if (tokenExpiry < expires) expires = tokenExpiry;
        }
        var entry = new Entry(Copy(read), token.Authorization?.Id.ToString(), read.User?.Id, expires);
        lock (gate)
        {
            if (!Enabled || Moved(token.Id.ToString(), begun) || (entry.AuthorizationId is { } a && Moved(a, begun))
                || (entry.UserId is { } u && Moved(u, begun))) return;
            Drop(token.Id);
            entries[token.Id] = entry;
            Own(entry.AuthorizationId, +1);
            Own(entry.UserId, +1);
        }
    }

    /// <summary>A token, authorization or person row changed (its id as text): drop every entry it is part of.</summary>
    public void Changed(string key)
    {
        lock (gate)
        {
            Volatile.Write(ref stripes[Stripe(key)], Interlocked.Increment(ref notices));
            if (Guid.TryParse(key, out var id) && Drop(id)) return;
            if (!owners.ContainsKey(key)) return;
            foreach (var (tokenId, entry) in entries)
                if (entry.UserId == key || entry.AuthorizationId == key)
                    Drop(tokenId);
        }
    }

    /// <summary>Nothing kept is known to be current (listening starts or stops): drop all, and refuse reads begun before.</summary>
    public void Reset(bool enabled)
    {
        lock (gate)
        {
            var count = Interlocked.Increment(ref notices);
            for (var i = 0; i < Stripes; i++) Volatile.Write(ref stripes[i], count);
            Enabled = enabled;
            entries.Clear();
            owners.Clear();
        }
    }

    // Under the gate.
    private bool Drop(Guid tokenId)
    {
        if (!entries.TryRemove(tokenId, out var entry)) return false;
        Own(entry.AuthorizationId, -1);
        Own(entry.UserId, -1);
        return true;
    }

    private void Own(string? key, int change)
    {
        if (key is null) return;
        var count = owners.GetValueOrDefault(key) + change;
        if (count > 0) owners[key] = count;
        else owners.Remove(key);
    }

    private bool Moved(string key, long begun) => Volatile.Read(ref stripes[Stripe(key)]) > begun;

    private static int Stripe(string key) => (int)((uint)StringComparer.Ordinal.GetHashCode(key) % Stripes);

    internal static TokenRead Copy(TokenRead read) => read with
    {
        Token = Copy(read.Token),
        User = read.User is { } user ? Copy(user) : null,
    };

    private static OpenIddictEntityFrameworkCoreToken<Guid> Copy(OpenIddictEntityFrameworkCoreToken<Guid> source)
    {
        var token = Persistence.SingleRowRead.Blank<OpenIddictEntityFrameworkCoreToken<Guid>>();
        token.Id = source.Id;
        token.ConcurrencyToken = source.ConcurrencyToken;
        token.CreationDate = source.CreationDate;
        token.ExpirationDate = source.ExpirationDate;
        token.Payload = source.Payload;
        token.Properties = source.Properties;
        token.RedemptionDate = source.RedemptionDate;
        token.ReferenceId = source.ReferenceId;
        token.Status = source.Status;
        token.Subject = source.Subject;
        token.Type = source.Type;
        if (source.Authorization is { } a)
        {
            var authorization = Persistence.SingleRowRead.Blank<OpenIddictEntityFrameworkCoreAuthorization<Guid>>();
            authorization.Id = a.Id;
            authorization.ConcurrencyToken = a.ConcurrencyToken;
            authorization.CreationDate = a.CreationDate;
            authorization.Properties = a.Properties;
            authorization.Scopes = a.Scopes;
            authorization.Status = a.Status;
            authorization.Subject = a.Subject;
            authorization.Type = a.Type;
            token.Authorization = authorization;
        }
        return token;
    }

    private static ApplicationUser Copy(ApplicationUser source)
    {
        var user = Persistence.SingleRowRead.Blank<ApplicationUser>();
        user.Id = source.Id;
        user.UserName = source.UserName;
        user.NormalizedUserName = source.NormalizedUserName;
        user.Email = source.Email;
        user.NormalizedEmail = source.NormalizedEmail;
        user.EmailConfirmed = source.EmailConfirmed;
        user.PasswordHash = source.PasswordHash;
        user.SecurityStamp = source.SecurityStamp;
        user.ConcurrencyStamp = source.ConcurrencyStamp;
        user.PhoneNumber = source.PhoneNumber;
        user.PhoneNumberConfirmed = source.PhoneNumberConfirmed;
        user.TwoFactorEnabled = source.TwoFactorEnabled;
        user.LockoutEnd = source.LockoutEnd;
        user.LockoutEnabled = source.LockoutEnabled;
        user.AccessFailedCount = source.AccessFailedCount;
        user.FirstName = source.FirstName;
        user.LastName = source.LastName;
        user.CreatedAt = source.CreatedAt;
        user.UpdatedAt = source.UpdatedAt;
        return user;
    }
}
