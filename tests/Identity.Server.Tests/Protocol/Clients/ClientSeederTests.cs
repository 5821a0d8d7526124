using System.Net;
using Identity.Server.Persistence;
using Identity.Server.Protocol;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Protocol.Clients;

/// <summary>
/// Seeding is what every node does at start: nodes starting together write the same new client or scope at the same
/// moment, and each must start; a client that is invalid is still refused.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientSeederTests(ServerFixture server)
{
    [Fact]
    public async Task NodesSeedingOneNewClientTogether_AllSucceed_AndWriteOneRow()
    {
        for (var round = 0; round < 5; round++)
        {
            var definition = Confidential($"seeded-{Guid.NewGuid():N}");

            await InEightScopesAtOnceAsync(services => services.GetRequiredService<ClientSeeder>().UpsertAsync(definition, CancellationToken.None));

            Assert.Equal(1, await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>()
                .CountAsync(a => a.ClientId == definition.ClientId)));
        }
    }

    [Fact]
    public async Task NodesFindingTheDatabaseMigratedTogether_SeedOneAtATime_AndLogNoFailedStatement()
    {
        // Database:MigrateOnStartup=false: nodes poll until an operator's migrate has run, find it at the same moment, and
        // seed together. Each new scope's insert but one was refused and absorbed, and EF Core logged it as an error.
        var name = await server.Postgres.CreateDatabaseAsync("seedrace");
        try
        {
            var log = new LogRecorder();
            await using var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(name)).WithWebHostBuilder(log.For("node"));
            node.CreateClient();
            for (var round = 0; round < 5; round++)
            {
                await using (var connection = new Npgsql.NpgsqlConnection(server.Postgres.ConnectionString(name)))
                {
                    await connection.OpenAsync();
                    await using var forget = new Npgsql.NpgsqlCommand("""DELETE FROM "OpenIddictScopes" """, connection);
                    await forget.ExecuteNonQueryAsync();
                }

                await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => ProtocolStartup.TryPrepareAsync(node.Services, CancellationToken.None))));
            }

            var errors = log.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
            Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Category} {e.EventId}")));
            Assert.NotEqual(0, await new TestData(node).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreScope<Guid>>().CountAsync()));
        }
        finally
        {
            await server.Postgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task ANodeThatLosesTheRaceForOneClient_StillSeedsTheClientsAfterIt()
    {
        for (var round = 0; round < 5; round++)
        {
            var shared = Confidential($"seeded-{Guid.NewGuid():N}");
            // A node of a newer deployment declares a client the others do not have yet: the refused insert of the shared
            // client must not take it down with it.
            var own = Enumerable.Range(0, 8).Select(_ => Confidential($"own-{Guid.NewGuid():N}")).ToArray();
            var next = -1;

            await InEightScopesAtOnceAsync(services => new ClientSeeder(services.GetRequiredService<IOpenIddictApplicationManager>(),
                Options.Create(new List<ClientDefinition> { shared, own[Interlocked.Increment(ref next)] }),
                NullLogger<ClientSeeder>.Instance).SeedAsync(CancellationToken.None));

            var ids = own.Select(c => c.ClientId).Append(shared.ClientId).ToArray();
            var rows = await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication<Guid>>()
                .Where(a => ids.Contains(a.ClientId!)).Select(a => a.ClientId!).ToListAsync());
            Assert.Equal(ids.Order(), rows.Order());
        }
    }

    private static ClientDefinition Confidential(string clientId) => new()
    {
        ClientId = clientId, ClientSecret = $"{Guid.NewGuid():N}{Guid.NewGuid():N}", Type = "confidential",
        AllowedGrantTypes = ["client_credentials"], AllowedScopes = [TestData.ApiScope],
    };

    [Fact]
    public async Task NodesSeedingOneNewScopeTogether_AllSucceed_AndWriteOneRow()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"seeded-{Guid.NewGuid():N}";
            var catalog = new ScopeCatalog(Options.Create(new List<ScopeDefinition> { new() { Name = name, Resources = ["https://api.seeded.test"] } }));

            await InEightScopesAtOnceAsync(services => new ScopeSeeder(services.GetRequiredService<IOpenIddictScopeManager>(), catalog)
                .SeedAsync(CancellationToken.None));

            Assert.Equal(1, await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreScope<Guid>>().CountAsync(s => s.Name == name)));
        }
    }

    [Fact]
    public async Task ANodeThatLosesTheRaceForOneScope_StillSeedsTheScopesAfterIt()
    {
        for (var round = 0; round < 20; round++)
        {
            var shared = $"seeded-{Guid.NewGuid():N}";
            var own = Enumerable.Range(0, 8).Select(_ => $"own-{Guid.NewGuid():N}").ToArray();
            var next = -1;

            await InEightScopesAtOnceAsync(services => new ScopeSeeder(services.GetRequiredService<IOpenIddictScopeManager>(),
                new ScopeCatalog(Options.Create(new List<ScopeDefinition> { new() { Name = shared }, new() { Name = own[Interlocked.Increment(ref next)] } })))
                .SeedAsync(CancellationToken.None));

            var names = own.Append(shared).ToArray();
            var rows = await new TestData(server).DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreScope<Guid>>()
                .Where(s => names.Contains(s.Name!)).Select(s => s.Name!).ToListAsync());
            Assert.Equal(names.Order(), rows.Order());
        }
    }

    [Fact]
    public async Task AClientConfigurationNoLongerDeclares_IsNamed_ButNotRemovedAtStart()
    {
        // Removed at start, a client a newer deployment added would be removed again by any node of the older one that
        // starts during the rollout, with its tokens. Clients that never came from configuration are not named.
        var (retired, kept) = (Confidential($"retired-{Guid.NewGuid():N}"), Confidential($"kept-{Guid.NewGuid():N}"));
        var other = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        await using var scope = server.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await new ClientSeeder(manager, Options.Create(new List<ClientDefinition> { retired, kept }), NullLogger<ClientSeeder>.Instance).SeedAsync(CancellationToken.None);

        var logs = new Messages();
        var next = new ClientSeeder(manager, Options.Create(new List<ClientDefinition> { kept }), logs);
        await next.SeedAsync(CancellationToken.None);

        var undeclared = await next.UndeclaredAsync(CancellationToken.None);
        Assert.Contains(retired.ClientId, undeclared);
        Assert.DoesNotContain(kept.ClientId, undeclared);
        Assert.DoesNotContain(other.ClientId, undeclared);
        Assert.Contains(logs.Written, m => m.Contains(retired.ClientId) && m.Contains("remove-client"));
        Assert.NotNull(await manager.FindByClientIdAsync(retired.ClientId));
    }

    [Fact]
    public async Task RemoveClient_DeletesItWithItsTokens_SoTheyStopWorkingAtOnce()
    {
        var data = new TestData(server);
        var protocol = new ProtocolClient(server.HttpsClient());
        var (client, user, api) = (await data.ClientAsync(isPublic: true), await data.UserAsync(), await data.ClientAsync(grants: ["client_credentials"], allowIntrospection: true));
        var tokens = await protocol.PasswordGrantAsync(client, user);
        Assert.True((await protocol.IntrospectAsync(api, tokens.AccessToken!)).Json.GetProperty("active").GetBoolean());

        Assert.Null(await RemoveAsync(client.ClientId));

        Assert.False((await protocol.IntrospectAsync(api, tokens.AccessToken!)).Json.GetProperty("active").GetBoolean());
        Assert.Equal("invalid_client", (await protocol.RefreshAsync(client, tokens.RefreshToken!)).Error);
        Assert.Equal(0, await data.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().CountAsync(t => t.Subject == user.Id)));
        Assert.Contains("no client", await RemoveAsync(client.ClientId));
        var declared = await data.ClientAsync(grants: ["client_credentials"]);
        Assert.Contains("still declared", await RemoveAsync(declared.ClientId, declared.ClientId));
        Assert.Equal(HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(declared)).Status);
    }

    [Fact]
    public async Task RemoveClientVerb_RemovesAndExits_AndSaysWhenItCannot()
    {
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);

        var (removed, output) = await RunAsync("remove-client", client.ClientId);
        var (again, refusal) = await RunAsync("remove-client", client.ClientId);
        var (usage, _) = await RunAsync("remove-client");

        Assert.True(removed == 0, output);
        Assert.Contains($"Removed client '{client.ClientId}'", output);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new ProtocolClient(server.HttpsClient()).ClientCredentialsAsync(client)).Status);
        Assert.Equal(1, again);
        Assert.Contains("There is no client", refusal);
        Assert.Equal(2, usage);
    }

    [Fact]
    public async Task AClientDeletedByHandWhileCached_IsRefusedAsUnknown_WithoutFailing()
    {
        // The node's cached copy still authenticates it (a change made by hand is seen within 5 minutes); the token's row
        // then refers to a client that is gone. That was a 500, with the database's foreign-key error in the log.
        var data = new TestData(server);
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var protocol = new ProtocolClient(server.HttpsClient());
        Assert.Equal(HttpStatusCode.OK, (await protocol.ClientCredentialsAsync(client)).Status);
        await DeleteByHandAsync(client.ClientId);

        var refused = await protocol.ClientCredentialsAsync(client);
        var again = await protocol.ClientCredentialsAsync(client);

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (refused.Status, refused.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (again.Status, again.Error));
    }

    [Fact]
    public async Task AClientDeletedByHandWhileCached_IsRefusedAsUnknown_ByThePasswordGrant()
    {
        // The password grant opens its session (an authorization row) before any token: that insert failed on the
        // foreign key, a 500 on every node until the cached copy expired.
        var data = new TestData(server);
        var client = await data.ClientAsync(grants: ["password", "refresh_token"]);
        var user = await data.UserAsync();
        var protocol = new ProtocolClient(server.HttpsClient());
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);
        await DeleteByHandAsync(client.ClientId);

        var refused = await protocol.PasswordGrantAsync(client, user);
        var again = await protocol.PasswordGrantAsync(client, user);

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (refused.Status, refused.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (again.Status, again.Error));
        Assert.Empty(await data.TokensAsync(user.Id));
    }

    [Fact]
    public async Task AClientDeletedByHandWhileCached_IsRefusedOnTheConsentPage_WithoutFailing()
    {
        // The person's "allow" remembers the consent (a permanent authorization row): that insert failed on the foreign key.
        var data = new TestData(server);
        const string redirectUri = "https://app.example.test/cb";
        var client = await data.ClientAsync(grants: ["authorization_code"], redirectUris: [redirectUri], requireConsent: true);
        var browser = await CodeFlow.SignedInAsync(server, await data.UserAsync());
        var toConsent = await browser.GetAsync(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = redirectUri, ["scope"] = "openid", ["state"] = "s",
            ["code_challenge"] = CodeFlow.Challenge(CodeFlow.NewVerifier()), ["code_challenge_method"] = "S256",
        }));
        Assert.StartsWith("/connect/consent", toConsent.Headers.Location!.ToString());
        var page = await browser.GetStringAsync(toConsent.Headers.Location);
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri("https://localhost"), toConsent.Headers.Location).Query)["returnUrl"].ToString();
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri("https://localhost"), returnUrl).Query)
            .ToDictionary(p => p.Key, p => p.Value.ToString());
        form["consent_decision"] = "allow";
        form["__RequestVerificationToken"] = CodeFlow.Antiforgery(page);
        await DeleteByHandAsync(client.ClientId);

        var answer = await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("The application no longer exists.", await answer.Content.ReadAsStringAsync());
    }

    /// <summary>What an operator deleting a client in the database does: its tokens and authorizations first, for the foreign keys.</summary>
    private async Task DeleteByHandAsync(string clientId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var delete = new Npgsql.NpgsqlCommand("""
            DELETE FROM "OpenIddictTokens" WHERE "ApplicationId" = (SELECT "Id" FROM "OpenIddictApplications" WHERE "ClientId" = @id);
            DELETE FROM "OpenIddictAuthorizations" WHERE "ApplicationId" = (SELECT "Id" FROM "OpenIddictApplications" WHERE "ClientId" = @id);
            DELETE FROM "OpenIddictApplications" WHERE "ClientId" = @id
            """, connection);
        delete.Parameters.AddWithValue("id", clientId);
        await delete.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task RemoveClientVerb_WaitsForRowsAnotherTransactionHolds_PastTheStatementTimeout()
    {
        // Requests' statements time out after seconds; a client's removal deletes all of its tokens, and must not be cut
        // off with them behind another transaction's locks (or on a large table).
        var client = await new TestData(server).ClientAsync(grants: ["client_credentials"]);
        await using var holder = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("""SELECT 1 FROM "OpenIddictApplications" WHERE "ClientId" = @id FOR UPDATE""", holder, transaction))
        {
            hold.Parameters.AddWithValue("id", client.ClientId);
            await hold.ExecuteNonQueryAsync();
        }

        var removing = RunOnAsync(server.ConnectionString + ";Command Timeout=1", "remove-client", client.ClientId);
        Assert.True(await Eventually.TrueAsync(WaitsForALockAsync, 120, TimeSpan.FromMilliseconds(250)), "the removal never reached the row");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(removing.IsCompleted, "the removal ended while the row was held");
        await transaction.CommitAsync();

        var (exitCode, output) = await removing;
        Assert.True(exitCode == 0, output);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new ProtocolClient(server.HttpsClient()).ClientCredentialsAsync(client)).Status);
    }

    /// <summary>Asked on a connection of its own: inside a transaction, PostgreSQL answers from the activity it saw first.</summary>
    private async Task<bool> WaitsForALockAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var waiting = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        return (long)(await waiting.ExecuteScalarAsync())! > 0;
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) => RunOnAsync(server.ConnectionString, args);

    private static Task<(int ExitCode, string Output)> RunOnAsync(string connectionString, params string[] args) =>
        ServerVerb.RunAsync("Postgres", connectionString, args);

    /// <summary>The remove-client verb, which is a process of its own: one scope, one call.</summary>
    private async Task<string?> RemoveAsync(string clientId, string? stillDeclared = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var declared = stillDeclared is null ? [] : new List<ClientDefinition> { Confidential(stillDeclared) };
        return await new ClientSeeder(scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>(), Options.Create(declared),
            NullLogger<ClientSeeder>.Instance).RemoveAsync(clientId, CancellationToken.None);
    }

    /// <summary>The same seeding from eight request scopes at once, as nodes starting together do.</summary>
    private Task InEightScopesAtOnceAsync(Func<IServiceProvider, Task> seed) =>
        Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await using var scope = server.Services.CreateAsyncScope();
            await seed(scope.ServiceProvider);
        })));

    [Fact]
    public async Task AnInvalidNewClient_IsStillRefused()
    {
        await using var scope = server.Services.CreateAsyncScope();
        var seeder = scope.ServiceProvider.GetRequiredService<ClientSeeder>();

        await Assert.ThrowsAsync<OpenIddictExceptions.ValidationException>(() => seeder.UpsertAsync(new ClientDefinition
        {
            ClientId = $"no-secret-{Guid.NewGuid():N}", Type = "confidential", AllowedGrantTypes = ["client_credentials"],
        }, CancellationToken.None));
    }

    private sealed class Messages : ILogger<ClientSeeder>
    {
        public List<string> Written { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Written.Add(formatter(state, exception));
    }
}
