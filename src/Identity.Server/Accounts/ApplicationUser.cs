using Microsoft.AspNetCore.Identity;

namespace Identity.Server.Accounts;

/// <summary>A person who signs in. The subject (<c>sub</c>) of their tokens is <see cref="IdentityUser.Id"/>.</summary>
public sealed class ApplicationUser : IdentityUser
{
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
