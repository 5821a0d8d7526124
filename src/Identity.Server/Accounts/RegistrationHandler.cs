using Identity.Server.Accounts.Contracts;
using Identity.Server.Email;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Server.Accounts;

/// <summary>
/// Creates the user, their role, the confirmation token and the confirmation email in one transaction: either all of
/// it exists afterwards or none of it (SPEC §3, §6).
/// </summary>
internal sealed class RegistrationHandler(ServerDbContext db, UserManager<ApplicationUser> users, PasswordHashes passwords,
    EmailOutbox outbox, ProfileReader profiles, IOptions<AccountsOptions> options, TimeProvider time)
{
    public async Task<(ProfileResponse? Profile, AccountError? Error)> RegisterAsync(RegisterRequest request, CancellationToken ct)
    {
        var selfService = options.Value.SelfServiceRoles;
        if (request.Role is not null && !selfService.Contains(request.Role, StringComparer.OrdinalIgnoreCase))
            return (null, AccountError.Field("role", $"Registration may ask only for: {string.Join(", ", selfService)}."));
        var role = request.Role is null ? selfService.FirstOrDefault() : selfService.First(r => r.Equals(request.Role, StringComparison.OrdinalIgnoreCase));
        var userName = request.UserName ?? request.Email!;
        if (UserNames.IsAnotherAddress(userName, request.Email))
            return (null, AccountError.Field("userName", UserNames.NotOwnAddressMessage));
        if (await users.FindByEmailAsync(request.Email!) is not null)
            return (null, AccountError.Field("email", "An account with this email already exists.", StatusCodes.Status409Conflict));
        if (await users.FindByNameAsync(userName) is not null)
            return (null, AccountError.Field("userName", "This user name is taken.", StatusCodes.Status409Conflict));

        var now = time.GetUtcNow();
        var user = new ApplicationUser
        {
            Email = request.Email,
            UserName = userName,
            FirstName = request.FirstName,
            LastName = request.LastName,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // Checked and hashed before the transaction: waiting for its turn to hash holds no connection.
        var (hash, refused) = await passwords.HashNewAsync(user, request.Password!, ct);
        if (hash is null) return (null, AccountError.FromIdentity(refused));
        user.PasswordHash = hash;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var created = await users.CreateAsync(user);
            if (!created.Succeeded) return (null, AccountError.FromIdentity(created));
            if (role is not null)
            {
                var added = await users.AddToRoleAsync(user, role);
                if (!added.Succeeded) throw new InvalidOperationException($"Self-service role '{role}' could not be assigned.");
            }
            // The confirmation link is written by the node that sends it (AccountLinkMessages), so that its one-time
            // token never waits in the outbox row: queued here, in the registration's transaction (SPEC §6).
            outbox.EnqueueLink(AccountTokenPurpose.ConfirmEmail, user.Email!);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException exception) when (UniqueViolation.Is(exception))
        {
            // The unique indexes on email and user name decide a race between two registrations; any other refusal
            // is not the person's to fix, and stays an error.
            return (null, AccountError.Field("email", "An account with this email or user name already exists.", StatusCodes.Status409Conflict));
        }
        return (await profiles.ReadAsync(user.Id, ct), null);
    }
}
