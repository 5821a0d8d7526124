using Identity.Server.Accounts;
using Identity.Server.Protocol.Clients;
using Identity.Server.Protocol.Issuance;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Identity.Server.Persistence.Configurations;

internal sealed class ApplicationUserConfiguration : IEntityTypeConfiguration<ApplicationUser>
{
    public void Configure(EntityTypeBuilder<ApplicationUser> user)
    {
        user.Property(u => u.FirstName).HasMaxLength(100);
        user.Property(u => u.LastName).HasMaxLength(100);
        // Identity checks uniqueness before insert; the index settles two registrations racing for one address.
        user.HasIndex(u => u.NormalizedEmail).HasDatabaseName("EmailIndex").IsUnique();
    }
}

internal sealed class ClientConfiguration : IEntityTypeConfiguration<Client>
{
    public void Configure(EntityTypeBuilder<Client> client)
    {
        client.ToTable("Clients");
        client.HasKey(c => c.ClientId);
        client.Property(c => c.ClientId).HasMaxLength(100);
        client.Property(c => c.DisplayName).HasMaxLength(200);
        client.Property(c => c.Type).HasConversion<string>().HasMaxLength(20);
        client.Property(c => c.AccessTokenFormat).HasConversion<string>().HasMaxLength(20);
        client.Ignore(c => c.IsPublic);
    }
}

internal sealed class AuthorizationConfiguration : IEntityTypeConfiguration<Authorization>
{
    public void Configure(EntityTypeBuilder<Authorization> authorization)
    {
        authorization.ToTable("Authorizations");
        authorization.Property(a => a.ClientId).HasMaxLength(100);
        authorization.Property(a => a.SubjectId).HasMaxLength(450);
        authorization.Property(a => a.Kind).HasConversion<string>().HasMaxLength(20);
        authorization.Property(a => a.Status).HasConversion<string>().HasMaxLength(20);
        authorization.HasIndex(a => new { a.SubjectId, a.ClientId });
        authorization.HasIndex(a => a.CreatedAt);
    }
}

internal sealed class TokenConfiguration : IEntityTypeConfiguration<Token>
{
    public void Configure(EntityTypeBuilder<Token> token)
    {
        token.ToTable("Tokens");
        token.Property(t => t.ClientId).HasMaxLength(100);
        token.Property(t => t.SubjectId).HasMaxLength(450);
        token.Property(t => t.Type).HasConversion<string>().HasMaxLength(30);
        token.Property(t => t.Status).HasConversion<string>().HasMaxLength(20);
        token.HasIndex(t => t.Hash).IsUnique();
        token.HasIndex(t => t.AuthorizationId);
        token.HasIndex(t => new { t.SubjectId, t.Type });
        token.HasIndex(t => t.ExpiresAt);
    }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> key)
    {
        key.ToTable("SigningKeys");
        key.Property(k => k.Id).HasMaxLength(64);
        key.Property(k => k.Algorithm).HasMaxLength(10);
    }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<Email.OutboxMessage>
{
    public void Configure(EntityTypeBuilder<Email.OutboxMessage> message)
    {
        message.ToTable("OutboxMessages");
        message.Property(m => m.To).HasMaxLength(256);
        message.Property(m => m.Subject).HasMaxLength(200);
        message.Property(m => m.LastError).HasMaxLength(500);
        message.HasIndex(m => new { m.SentAt, m.NextAttemptAt });
    }
}

internal sealed class AccountTokenConfiguration : IEntityTypeConfiguration<AccountToken>
{
    public void Configure(EntityTypeBuilder<AccountToken> token)
    {
        token.ToTable("AccountTokens");
        token.Property(t => t.UserId).HasMaxLength(450);
        token.Property(t => t.Purpose).HasConversion<string>().HasMaxLength(20);
        token.Property(t => t.Email).HasMaxLength(256);
        token.HasIndex(t => t.Hash).IsUnique();
        token.HasIndex(t => new { t.UserId, t.Purpose });
        token.HasOne<ApplicationUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> key) => key.ToTable("DataProtectionKeys");
}
