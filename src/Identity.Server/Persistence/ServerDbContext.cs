using Identity.Server.Accounts;
using Identity.Server.Email;
using Identity.Server.Protocol.ClientAuthentication;
using Identity.Server.Protocol.Device;
using Identity.Server.Protocol.Keys;
using Identity.Server.Protocol.Token.Rotation;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Persistence;

/// <summary>
/// The one unit of work: ASP.NET Core Identity's tables, OpenIddict's (applications, authorizations, scopes, tokens;
/// <see cref="Guid"/> keys) and ours. One subclass per provider, because each provider has its own migrations.
/// </summary>
public abstract class ServerDbContext(DbContextOptions options) : IdentityDbContext<ApplicationUser>(options)
{
    public DbSet<ProtocolKey> ProtocolKeys => Set<ProtocolKey>();
    public DbSet<RefreshTokenSuccessor> RefreshTokenSuccessors => Set<RefreshTokenSuccessor>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<AccountToken> AccountTokens => Set<AccountToken>();
    public DbSet<UsedClientAssertion> UsedClientAssertions => Set<UsedClientAssertion>();
    public DbSet<DevicePoll> DevicePolls => Set<DevicePoll>();
    public DbSet<BrowserSession> BrowserSessions => Set<BrowserSession>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<string[]>().HaveConversion<SpaceSeparatedConverter, SpaceSeparatedComparer>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict<Guid>();
        builder.ApplyConfigurationsFromAssembly(typeof(ServerDbContext).Assembly);
    }
}

/// <summary>PostgreSQL: production, several nodes. Migrations in Migrations/Postgres.</summary>
public sealed class PostgresServerDbContext(DbContextOptions<PostgresServerDbContext> options) : ServerDbContext(options);

/// <summary>SQLite: the embedded default, one node. Migrations in Migrations/Sqlite.</summary>
public sealed class SqliteServerDbContext(DbContextOptions<SqliteServerDbContext> options) : ServerDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // SQLite has no instant type; as Unix milliseconds, range queries (expiry, pruning) still translate to SQL.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<UnixMillisecondsConverter>();
    }
}
