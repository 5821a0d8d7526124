using Identity.Server.Accounts;
using Identity.Server.Protocol.ClientAuthentication;
using Identity.Server.Protocol.Device;
using Identity.Server.Protocol.Keys;
using Identity.Server.Protocol.Token.Rotation;
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

internal sealed class ProtocolKeyConfiguration : IEntityTypeConfiguration<ProtocolKey>
{
    public void Configure(EntityTypeBuilder<ProtocolKey> key)
    {
        key.ToTable("ProtocolKeys");
        key.Property(k => k.Id).HasMaxLength(64);
        key.Property(k => k.Use).HasMaxLength(10);
        key.Property(k => k.Algorithm).HasMaxLength(20);
    }
}

internal sealed class RefreshTokenSuccessorConfiguration : IEntityTypeConfiguration<RefreshTokenSuccessor>
{
    public void Configure(EntityTypeBuilder<RefreshTokenSuccessor> successor)
    {
        successor.ToTable("RefreshTokenSuccessors");
        successor.HasKey(s => s.TokenId);
        successor.Property(s => s.TokenId).ValueGeneratedNever();
        successor.HasIndex(s => s.ExpiresAt);
    }
}

internal sealed class UsedClientAssertionConfiguration : IEntityTypeConfiguration<UsedClientAssertion>
{
    public void Configure(EntityTypeBuilder<UsedClientAssertion> assertion)
    {
        assertion.ToTable("UsedClientAssertions");
        // The key is what makes a jti single-use across nodes: the second insert of a pair fails.
        assertion.HasKey(a => new { a.ClientId, a.JwtIdHash });
        assertion.Property(a => a.ClientId).HasMaxLength(100);
        assertion.Property(a => a.JwtIdHash).HasMaxLength(64);
        assertion.HasIndex(a => a.ExpiresAt);
    }
}

internal sealed class DevicePollConfiguration : IEntityTypeConfiguration<DevicePoll>
{
    public void Configure(EntityTypeBuilder<DevicePoll> poll)
    {
        poll.ToTable("DevicePolls");
        poll.HasKey(p => p.DeviceCodeId);
        poll.Property(p => p.DeviceCodeId).ValueGeneratedNever();
        poll.HasIndex(p => p.ExpiresAt);
    }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<Email.OutboxMessage>
{
    public void Configure(EntityTypeBuilder<Email.OutboxMessage> message)
    {
        message.ToTable("OutboxMessages");
        message.Property(m => m.To).HasMaxLength(256);
        message.Property(m => m.Link).HasConversion<string>().HasMaxLength(20);
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

internal sealed class BrowserSessionConfiguration : IEntityTypeConfiguration<BrowserSession>
{
    public void Configure(EntityTypeBuilder<BrowserSession> session)
    {
        session.ToTable("BrowserSessions");
        session.HasKey(s => s.KeyHash);
        session.Property(s => s.KeyHash).HasMaxLength(32);
        session.Property(s => s.UserId).HasMaxLength(450);
        session.HasIndex(s => s.ExpiresAt);
        session.HasOne<ApplicationUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> key) => key.ToTable("DataProtectionKeys");
}
