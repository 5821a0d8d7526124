using Identity.Server.Accounts;
using Identity.Server.Persistence;
using Identity.Server.Protocol.Clients;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Tests.Infrastructure;

public sealed record TestClient(string ClientId, string? Secret);
public sealed record TestUser(string Id, string UserName, string Email, string Password);

/// <summary>A token row as OpenIddict stores it: its type (OpenIddictConstants.TokenTypeIdentifiers) and status.</summary>
public sealed record TokenRow(string Type, string Status)
{
    public const string AccessToken = OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.AccessToken;
    public const string RefreshToken = OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken;
    public const string Valid = OpenIddict.Abstractions.OpenIddictConstants.Statuses.Valid;
    public const string Revoked = OpenIddict.Abstractions.OpenIddictConstants.Statuses.Revoked;
}

/// <summary>Creates each test's own clients and users, with unique ids, directly through the server's services.</summary>
public sealed class TestData(WebApplicationFactory<Program> server)
{
    public const string ApiScope = "api1";
    public const string ApiResource = "https://api.example.test";
    public const string DefaultPassword = "correct horse battery staple";

    public async Task<TestClient> ClientAsync(
        string[]? grants = null, string[]? scopes = null, bool isPublic = false, string format = "jwt",
        bool allowIntrospection = false, string[]? corsOrigins = null, TimeSpan? accessTokenLifetime = null,
        string[]? redirectUris = null, bool requireConsent = true, string[]? postLogoutRedirectUris = null,
        string? jsonWebKeySet = null, bool withSecret = true, bool requirePushedAuthorizationRequests = false)
    {
        var id = $"client-{Guid.NewGuid():N}";
        var secret = isPublic || !withSecret ? null : $"secret-{Guid.NewGuid():N}-{Guid.NewGuid():N}";
        var definition = new ClientDefinition
        {
            ClientId = id,
            ClientSecret = secret,
            Type = isPublic ? "public" : "confidential",
            AllowedGrantTypes = grants ?? ["password", "refresh_token"],
            AllowedScopes = scopes ?? ["openid", "profile", "email", "offline_access", "roles", ApiScope],
            AccessTokenFormat = format,
            AllowIntrospection = allowIntrospection,
            AllowedCorsOrigins = corsOrigins ?? [],
            AccessTokenLifetime = accessTokenLifetime,
            RedirectUris = redirectUris ?? [],
            PostLogoutRedirectUris = postLogoutRedirectUris ?? [],
            RequireConsent = requireConsent,
            JsonWebKeySet = jsonWebKeySet,
            RequirePushedAuthorizationRequests = requirePushedAuthorizationRequests,
        };
        await using var scope = server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClientSeeder>().UpsertAsync(definition, CancellationToken.None);
        return new TestClient(id, secret);
    }

    public async Task<TestUser> UserAsync(bool emailConfirmed = true, string? password = null)
    {
        var name = $"user{Guid.NewGuid():N}"[..20];
        var user = new ApplicationUser
        {
            UserName = name,
            Email = $"{name}@example.test",
            EmailConfirmed = emailConfirmed,
            FirstName = "Ada",
            LastName = "Lovelace",
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var result = await users.CreateAsync(user, password ?? DefaultPassword);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
        return new TestUser(user.Id, name, user.Email, password ?? DefaultPassword);
    }

    /// <summary>Runs <paramref name="work"/> against the server's database, for setting up or inspecting state.</summary>
    public async Task<T> DbAsync<T>(Func<ServerDbContext, Task<T>> work)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<ServerDbContext>());
    }

    /// <summary>The type and status of every token row of a subject (a user, or a client for itself), oldest first.</summary>
    public Task<List<TokenRow>> TokensAsync(string subject) => DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken<Guid>>().AsNoTracking()
        .Where(t => t.Subject == subject).OrderBy(t => t.CreationDate).Select(t => new TokenRow(t.Type!, t.Status!)).ToListAsync());

    /// <summary>Gives <paramref name="user"/> <paramref name="role"/>, making the role first if no test has yet (roles are shared).</summary>
    public async Task GiveRoleAsync(TestUser user, string role)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(role)) await roles.CreateAsync(new IdentityRole(role));
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.True((await users.AddToRoleAsync((await users.FindByIdAsync(user.Id))!, role)).Succeeded);
    }

    /// <summary>Locks <paramref name="user"/> out for the next hour, as failed sign-ins would.</summary>
    public Task LockOutAsync(TestUser user) => UsersAsync(async users =>
        Assert.True((await users.SetLockoutEndDateAsync((await users.FindByIdAsync(user.Id))!, DateTimeOffset.UtcNow.AddHours(1))).Succeeded));

    /// <summary>Deletes <paramref name="user"/> from the user store.</summary>
    public Task DeleteUserAsync(TestUser user) => UsersAsync(async users =>
        Assert.True((await users.DeleteAsync((await users.FindByIdAsync(user.Id))!)).Succeeded));

    public async Task UsersAsync(Func<UserManager<ApplicationUser>, Task> work)
    {
        await using var scope = server.Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>());
    }
}
