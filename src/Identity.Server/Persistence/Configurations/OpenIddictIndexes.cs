using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Persistence.Configurations;

/// <summary>
/// Indexes OpenIddict's own model lacks for our queries: a person's tokens and authorizations (password change and
/// reset revoke them by subject), and expiry and age for the prune job's bounded batches.
/// </summary>
internal sealed class OpenIddictTokenIndexes : IEntityTypeConfiguration<OpenIddictEntityFrameworkCoreToken<Guid>>
{
    public void Configure(EntityTypeBuilder<OpenIddictEntityFrameworkCoreToken<Guid>> token)
    {
        token.HasIndex(t => new { t.Subject, t.Status });
        token.HasIndex(t => t.ExpirationDate);
    }
}

internal sealed class OpenIddictAuthorizationIndexes : IEntityTypeConfiguration<OpenIddictEntityFrameworkCoreAuthorization<Guid>>
{
    public void Configure(EntityTypeBuilder<OpenIddictEntityFrameworkCoreAuthorization<Guid>> authorization)
    {
        authorization.HasIndex(a => new { a.Subject, a.Status });
        authorization.HasIndex(a => a.CreationDate);
    }
}
