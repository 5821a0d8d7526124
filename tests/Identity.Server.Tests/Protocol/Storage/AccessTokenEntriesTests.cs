using System.Net;
using Identity.Server.Accounts;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Storage;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Server.Tests.Protocol.Storage;

/// <summary>
/// The node's copies of access tokens' entries: kept only while nothing may have changed them, dropped on PostgreSQL's
/// notice of any change to their rows, and a revocation on one node refused at once by every other.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AccessTokenEntriesTests(ServerFixture server)
{
    [Fact]
    public void AKeptEntry_IsHandedOutAsAFreshCopyOfEveryColumn()
    {
        var entries = Enabled();
        var read = Read();

        entries.Keep(read, entries.Begin());
        var first = entries.Get(read.Token.Id)!;
        var second = entries.Get(read.Token.Id)!;

        Assert.NotSame(read.Token, first.Token);
        Assert.NotSame(first.Token, second.Token);
        Assert.NotSame(read.Token.Authorization, first.Token.Authorization);
        Assert.NotSame(read.User, first.User);
        foreach (var copy in new[] { first, second })
        {
            Assert.All(Columns<OpenIddictEntityFrameworkCoreToken<Guid>>(), c => Assert.Equal(c.GetValue(read.Token), c.GetValue(copy.Token)));
            Assert.All(Columns<OpenIddictEntityFrameworkCoreAuthorization<Guid>>(),
                c => Assert.Equal(c.GetValue(read.Token.Authorization), c.GetValue(copy.Token.Authorization)));
            // Every column the lookup reads of the person (UserQueries.Columns), a new one included.
            Assert.All(UserQueries.Columns, name =>
            {
                var column = typeof(ApplicationUser).GetProperty(name)!;
                Assert.Equal(column.GetValue(read.User), column.GetValue(copy.User));
            });
            Assert.Equal((read.ApplicationId, read.AuthorizationApplicationId, read.Untracked), (copy.ApplicationId, copy.AuthorizationApplicationId, copy.Untracked));
        }
    }

    [Theory]
    [InlineData("token")]
    [InlineData("authorization")]
    [InlineData("person")]
    public void ARead_ANoticeAboutOneOfItsRowsOvertook_IsNotKept(string which)
    {
        // The read may have seen the row before the change the notice is about: keeping it would keep a revoked token.
        var entries = Enabled();
        var read = Read();
        var begun = entries.Begin();

        entries.Changed(Key(read, which));
        entries.Keep(read, begun);

        Assert.Null(entries.Get(read.Token.Id));
        entries.Keep(read, entries.Begin());
        Assert.NotNull(entries.Get(read.Token.Id));
    }

    [Theory]
    [InlineData("token")]
    [InlineData("authorization")]
    [InlineData("person")]
    public void ANoticeAboutAnyOfAnEntrysRows_DropsIt(string which)
    {
        var entries = Enabled();
        var read = Read();
        var other = Read();
        entries.Keep(read, entries.Begin());
        entries.Keep(other, entries.Begin());

        entries.Changed(Key(read, which));

        Assert.Null(entries.Get(read.Token.Id));
        Assert.NotNull(entries.Get(other.Token.Id));
    }

    [Fact]
    public void TokensOfOneSignIn_AreAllDroppedWithIt_WhicheverWentFirst()
    {
        // The entries remember which authorizations and people they hold, to skip notices about any other row.
        var entries = Enabled();
        var (first, second) = (Read(), Read());
        second.Token.Authorization = first.Token.Authorization;
        entries.Keep(first, entries.Begin());
        entries.Keep(second, entries.Begin());
        entries.Keep(first, entries.Begin()); // kept again: still one entry

        entries.Changed(first.Token.Id.ToString());
        Assert.NotNull(entries.Get(second.Token.Id));
        entries.Changed(first.Token.Authorization!.Id.ToString());

        Assert.Null(entries.Get(second.Token.Id));
        Assert.Equal(0, entries.Count);
    }

    [Fact]
    public void OnlyAccessTokens_WhileListening_UntilTheyExpire_AreKept()
    {
        var time = new TestTimeProvider();
        var entries = new AccessTokenEntries(time);
        var read = Read(time);
        entries.Keep(read, entries.Begin());
        Assert.Null(entries.Get(read.Token.Id)); // not listening

        entries.Reset(enabled: true);
        var refresh = Read(time);
        refresh.Token.Type = TokenTypeIdentifiers.RefreshToken;
        entries.Keep(refresh, entries.Begin());
        Assert.Null(entries.Get(refresh.Token.Id));

        entries.Keep(read, entries.Begin());
        Assert.NotNull(entries.Get(read.Token.Id));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(entries.Get(read.Token.Id)); // the token expired

        entries.Keep(Read(time), entries.Begin());
        entries.Reset(enabled: false);
        Assert.Equal(0, entries.Count);
    }

    [Fact]
    public async Task ARevocationOnOneNode_IsRefusedByEveryOtherAtOnce()
    {
        var database = await server.Postgres.CreateDatabaseAsync("row_notices");
        await using var a = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        await using var b = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        await using var c = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(database));
        var data = new TestData(a);
        var (client, api) = (await data.ClientAsync(), await data.ClientAsync(grants: ["client_credentials"], scopes: [], allowIntrospection: true));
        await ListeningAsync(a, b, c);
        var (onA, onB, onC) = (new ProtocolClient(a.CreateClient()), new ProtocolClient(b.CreateClient()), new ProtocolClient(c.CreateClient()));

        // Without the barrier the notice lost this race in about half of the ten-round runs: thirty rounds.
        for (var round = 0; round < 30; round++)
        {
            var tokens = await onA.PasswordGrantAsync(client, await data.UserAsync());
            // Both other nodes hold the entry now.
            Assert.Equal(HttpStatusCode.OK, (await onB.UserInfoAsync(tokens.AccessToken!)).Status);
            Assert.True((await onC.IntrospectAsync(api, tokens.AccessToken!)).Json.GetProperty("active").GetBoolean());
            Assert.NotNull(b.Services.GetRequiredService<AccessTokenEntries>().Get(Guid.Parse(TokenId(tokens.AccessToken!))));

            var revoked = round % 2 == 0 ? await onA.RevokeAsync(client, tokens.AccessToken!) : await onA.RevokeAsync(client, tokens.RefreshToken!, "refresh_token");

            Assert.Equal(HttpStatusCode.OK, revoked.Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await onB.UserInfoAsync(tokens.AccessToken!)).Status);
            Assert.False((await onC.IntrospectAsync(api, tokens.AccessToken!)).Json.GetProperty("active").GetBoolean());
        }
    }

    [Fact]
    public async Task AChangeMadeOutsideTheServer_IsHeardToo()
    {
        // An operator's SQL, a node of an older version: the triggers announce whatever changed the rows.
        var database = await server.Postgres.CreateDatabaseAsync("row_notices_sql");
        var connectionString = server.Postgres.ConnectionString(database);
        await using var node = ConfiguredServer.OnPostgres(connectionString);
        var data = new TestData(node);
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await ListeningAsync(node);
        var protocol = new ProtocolClient(node.CreateClient());
        var tokens = await protocol.PasswordGrantAsync(client, user, "openid profile");
        var first = await protocol.UserInfoAsync(tokens.AccessToken!);
        Assert.Equal("Ada", first.Json.GetProperty("given_name").GetString());
        Assert.NotEqual(0, node.Services.GetRequiredService<AccessTokenEntries>().Count);

        await SqlAsync(connectionString, """UPDATE "AspNetUsers" SET "FirstName" = 'Grace' WHERE "Id" = @id""", user.Id);
        Assert.True(await Eventually.TrueAsync(async () =>
            (await protocol.UserInfoAsync(tokens.AccessToken!)).Json.GetProperty("given_name").GetString() == "Grace", 50, TimeSpan.FromMilliseconds(20)));

        await SqlAsync(connectionString, """UPDATE "OpenIddictTokens" SET "Status" = 'revoked' WHERE "Id" = @id::uuid""", TokenId(tokens.AccessToken!));
        Assert.True(await Eventually.TrueAsync(async () =>
            (await protocol.UserInfoAsync(tokens.AccessToken!)).Status == HttpStatusCode.Unauthorized, 50, TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public async Task AStoppedNode_LeavesNoListenerBehindForRevocationsToWaitFor()
    {
        // Its listening connection, pooled, stayed open under its name after the host stopped: every revocation then
        // waited 2 s for an answer that could not come.
        var database = await server.Postgres.CreateDatabaseAsync("row_notices_stop");
        var connectionString = server.Postgres.ConnectionString(database);
        await using var a = ConfiguredServer.OnPostgres(connectionString);
        var b = ConfiguredServer.OnPostgres(connectionString);
        _ = a.Services;
        await ListeningAsync(a, b);
        Assert.Equal(2, await ListenersAsync(connectionString));

        await b.DisposeAsync();

        Assert.True(await Eventually.TrueAsync(async () => await ListenersAsync(connectionString) == 1, 100, TimeSpan.FromMilliseconds(50)));
    }

    private static async Task<long> ListenersAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'identity-rows %'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ListeningAsync(params ConfiguredServer[] nodes)
    {
        foreach (var node in nodes)
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(node.Services.GetRequiredService<RowChanges>().IsListening),
                100, TimeSpan.FromMilliseconds(100)));
    }

    private static async Task SqlAsync(string connectionString, string sql, string id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private static string TokenId(string accessToken) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(accessToken).GetClaim("oi_tkn_id").Value;

    private static AccessTokenEntries Enabled()
    {
        var entries = new AccessTokenEntries(TimeProvider.System);
        entries.Reset(enabled: true);
        return entries;
    }

    private static string Key(TokenRead read, string which) => which switch
    {
        "token" => read.Token.Id.ToString(),
        "authorization" => read.Token.Authorization!.Id.ToString(),
        _ => read.User!.Id,
    };

    private static IEnumerable<System.Reflection.PropertyInfo> Columns<T>() =>
        typeof(T).GetProperties().Where(p => p.CanWrite && (p.PropertyType == typeof(string) || p.PropertyType.IsValueType));

    private static TokenRead Read(TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        var token = new OpenIddictEntityFrameworkCoreToken<Guid>();
        Fill(token);
        token.Type = TokenTypeIdentifiers.AccessToken;
        token.ExpirationDate = now.AddSeconds(30);
        var authorization = new OpenIddictEntityFrameworkCoreAuthorization<Guid>();
        Fill(authorization);
        token.Authorization = authorization;
        var user = new ApplicationUser();
        foreach (var name in UserQueries.Columns) Set(user, typeof(ApplicationUser).GetProperty(name)!);
        return new TokenRead(token, Guid.NewGuid(), Guid.NewGuid(), Untracked: true, user);
    }

    private static void Fill<T>(T entity)
    {
        foreach (var column in Columns<T>()) Set(entity!, column);
    }

    private static void Set(object entity, System.Reflection.PropertyInfo column)
    {
        var type = Nullable.GetUnderlyingType(column.PropertyType) ?? column.PropertyType;
        object value = type == typeof(string) ? $"{column.Name}-{Guid.NewGuid():N}"
            : type == typeof(Guid) ? Guid.NewGuid()
            : type == typeof(DateTime) ? DateTime.UtcNow.AddMinutes(Random.Shared.Next(1, 1000))
            : type == typeof(DateTimeOffset) ? DateTimeOffset.UtcNow.AddMinutes(Random.Shared.Next(1, 1000))
            : type == typeof(bool) ? true
            : type == typeof(int) ? Random.Shared.Next(1, 1000)
            : throw new InvalidOperationException($"No test value for {column.Name} ({type}).");
        column.SetValue(entity, value);
    }
}
