using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Identities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// The token store's two hot lookups (by id: every JWT's entry; by reference id: every refresh token), each one read
/// of the token joined with its authorization. On PostgreSQL they are statements of ours, read into entities that no
/// context tracks yet (<see cref="TokenRead.Untracked"/>): EF's query pipeline around the same statement cost more
/// than the statement, even compiled (its shaper is rebuilt on every call); and they also join the person the token
/// was issued to, whom refresh and userinfo check next (<see cref="UserQueries"/>), which was a second round trip (for
/// a client's own token the join finds no one). Elsewhere (SQLite) they are EF compiled queries. Made once per host: a
/// compiled query keeps the executor of the model it first ran on, so one shared by hosts on different providers (a
/// PostgreSQL and a SQLite host in one test process) would switch between them.
/// </summary>
internal sealed class TokenQueries(IOptions<DatabaseOptions> database, MultiplexedReads shared)
{
    private static readonly string[] TokenColumns = ["Id", "ApplicationId", "AuthorizationId", "ConcurrencyToken", "CreationDate", "ExpirationDate",
        "Payload", "Properties", "RedemptionDate", "ReferenceId", "Status", "Subject", "Type"];
    private static readonly string[] AuthorizationColumns = ["Id", "ApplicationId", "ConcurrencyToken", "CreationDate", "Properties", "Scopes",
        "Status", "Subject", "Type"];

    private readonly Func<DbContext, Guid, Task<OpenIddictEntityFrameworkCoreToken<Guid>?>> compiledById =
        EF.CompileAsyncQuery((DbContext db, Guid id) => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>()
            .Include(t => t.Authorization).AsTracking().FirstOrDefault(t => t.Id == id));

    private readonly Func<DbContext, string, Task<OpenIddictEntityFrameworkCoreToken<Guid>?>> compiledByReferenceId =
        EF.CompileAsyncQuery((DbContext db, string referenceId) => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>()
            .Include(t => t.Authorization).AsTracking().FirstOrDefault(t => t.ReferenceId == referenceId));

    private string? byIdStatement;
    private string? byReferenceIdStatement;

    // The provider the context was configured with; asking EF (Database.IsNpgsql) costs a service lookup per call.
    private bool IsPostgres => database.Value.Provider == DatabaseProvider.Postgres;

    public async Task<TokenRead?> ById(DbContext db, Guid id, CancellationToken ct) =>
        IsPostgres
            ? await ReadAsync(db, byIdStatement ??= Statement(db, "Id"), id, ct)
            : Tracked(db, await compiledById(db, id));

    public async Task<TokenRead?> ByReferenceId(DbContext db, string referenceId, CancellationToken ct) =>
        IsPostgres
            ? await ReadAsync(db, byReferenceIdStatement ??= Statement(db, "ReferenceId"), referenceId, ct)
            : Tracked(db, await compiledByReferenceId(db, referenceId));

    private static TokenRead? Tracked(DbContext db, OpenIddictEntityFrameworkCoreToken<Guid>? token) =>
        token is null ? null : new TokenRead(token, TrackedEntities.EntryOf(db, token).Property<Guid?>("ApplicationId").CurrentValue, null, Untracked: false);

    private Task<TokenRead?> ReadAsync(DbContext db, string statement, object key, CancellationToken ct) =>
        SingleRowRead.ReadAsync(db, shared, statement, key, reader =>
        {
            var token = SingleRowRead.Blank<OpenIddictEntityFrameworkCoreToken<Guid>>();
            token.Id = reader.GetGuid(0);
            token.ConcurrencyToken = reader.TextOrNull(3);
            token.CreationDate = reader.TimeOrNull(4);
            token.ExpirationDate = reader.TimeOrNull(5);
            token.Payload = reader.TextOrNull(6);
            token.Properties = reader.TextOrNull(7);
            token.RedemptionDate = reader.TimeOrNull(8);
            token.ReferenceId = reader.TextOrNull(9);
            token.Status = reader.TextOrNull(10);
            token.Subject = reader.TextOrNull(11);
            token.Type = reader.TextOrNull(12);
            const int a = 13, u = a + 9;
            var user = reader.IsDBNull(u) ? null : UserQueries.Read(reader, u);
            if (reader.IsDBNull(a)) return new TokenRead(token, reader.GuidOrNull(1), null, Untracked: true, user);
            var authorization = SingleRowRead.Blank<OpenIddictEntityFrameworkCoreAuthorization<Guid>>();
            authorization.Id = reader.GetGuid(a);
            authorization.ConcurrencyToken = reader.TextOrNull(a + 2);
            authorization.CreationDate = reader.TimeOrNull(a + 3);
            authorization.Properties = reader.TextOrNull(a + 4);
            authorization.Scopes = reader.TextOrNull(a + 5);
            authorization.Status = reader.TextOrNull(a + 6);
            authorization.Subject = reader.TextOrNull(a + 7);
            authorization.Type = reader.TextOrNull(a + 8);
            token.Authorization = authorization;
            return new TokenRead(token, reader.GuidOrNull(1), reader.GuidOrNull(a + 1), Untracked: true, user);
        }, ct);

    /// <summary>
    /// The token's columns, then its authorization's, then its person's (each all null without one), in the order read
    /// above.
    /// </summary>
    internal static string Statement(DbContext db, string keyProperty)
    {
        var token = db.Model.FindEntityType(typeof(OpenIddictEntityFrameworkCoreToken<Guid>))!;
        var authorization = db.Model.FindEntityType(typeof(OpenIddictEntityFrameworkCoreAuthorization<Guid>))!;
        var user = db.Model.FindEntityType(typeof(ApplicationUser))!;
        var columns = TokenColumns.Select(c => "t." + StoreNames.Column(token, c))
            .Concat(AuthorizationColumns.Select(c => "a." + StoreNames.Column(authorization, c)))
            .Concat(UserQueries.Columns.Select(c => "u." + StoreNames.Column(user, c)));
        return $"""
            SELECT {string.Join(", ", columns)}
            FROM {StoreNames.Table(token)} AS t
            LEFT JOIN {StoreNames.Table(authorization)} AS a ON a.{StoreNames.Column(authorization, "Id")} = t.{StoreNames.Column(token, "AuthorizationId")}
            LEFT JOIN {StoreNames.Table(user)} AS u ON u.{StoreNames.Column(user, "Id")} = t.{StoreNames.Column(token, "Subject")}
            WHERE t.{StoreNames.Column(token, keyProperty)} = $1
            """;
    }
}

/// <summary>
/// A token as read, with the keys of the clients it and its authorization belong to. <see cref="Untracked"/>: no
/// context tracks the token or its authorization yet, and their application navigations are still to be set; else
/// the context tracks both, and <see cref="AuthorizationApplicationId"/> is not read. <see cref="User"/>: the person
/// whose id is the token's subject, as read with it (PostgreSQL only).
/// </summary>
internal sealed record TokenRead(OpenIddictEntityFrameworkCoreToken<Guid> Token, Guid? ApplicationId, Guid? AuthorizationApplicationId, bool Untracked,
    ApplicationUser? User = null);
