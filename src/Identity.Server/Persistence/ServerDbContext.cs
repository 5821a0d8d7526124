using Identity.Server.Accounts;
using Identity.Server.Email;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Persistence;

/// <summary>The one unit of work: ASP.NET Core Identity's tables plus the protocol's.</summary>
public sealed class ServerDbContext(DbContextOptions<ServerDbContext> options) : IdentityDbContext<ApplicationUser>(options)
{
    public DbSet<Client> Clients => Set<Client>();
    public DbSet<Authorization> Authorizations => Set<Authorization>();
    public DbSet<Token> Tokens => Set<Token>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<AccountToken> AccountTokens => Set<AccountToken>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no instant type; as Unix milliseconds, range queries (expiry, pruning) still translate to SQL.
        if (Database.IsSqlite())
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<UnixMillisecondsConverter>();
        }
        configurationBuilder.Properties<string[]>().HaveConversion<SpaceSeparatedConverter, SpaceSeparatedComparer>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(ServerDbContext).Assembly);
    }
}
