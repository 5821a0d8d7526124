using System.Security.Claims;
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
internal sealed class RegistrationHandler(ServerDbContext db, UserManager<ApplicationUser> users, PasswordHashes passwords, PasswordPolicy policy,
    EmailOutbox outbox, ProfileReader profiles, IOptions<AccountsOptions> options, TimeProvider time) : IInputCheck<RegisterRequest>
{
    public async Task<(ProfileResponse? Profile, AccountError? Error)> RegisterAsync(RegisterRequest request, CancellationToken ct)
    {
        if (AccountError.Invalid(Check(request)) is { } invalid) return (null, invalid);
        var selfService = options.Value.SelfServiceRoles;
        var role = request.Role is null ? selfService.FirstOrDefault() : selfService.First(r => r.Equals(request.Role, StringComparison.OrdinalIgnoreCase));
        var userName = request.UserName ?? request.Email!;
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
        // Hashed before the transaction: waiting for its turn to hash holds no connection.
        user.PasswordHash = await passwords.HashAsync(user, request.Password!, ct);
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

    /// <summary>The role, the user name and the password: every 400 a registration can get, answered together.</summary>
    public Dictionary<string, string[]> Check(RegisterRequest request, IReadOnlySet<string>? refused = null)
    {
        refused ??= new HashSet<string>();
        var errors = new Dictionary<string, string[]>();
        var selfService = options.Value.SelfServiceRoles;
        if (!refused.Contains("role") && request.Role is not null && !selfService.Contains(request.Role, StringComparer.OrdinalIgnoreCase))
            errors["role"] = [$"Registration may ask only for: {string.Join(", ", selfService)}."];
        if (!refused.Contains("userName") && request.UserName is not null && UserNames.IsAnotherAddress(request.UserName, request.Email))
            errors["userName"] = [UserNames.NotOwnAddressMessage];
        if (!refused.Contains("password") && request.Password is not null)
            foreach (var (field, messages) in policy.Refusals(request.Password, "password")) errors[field] = messages;
        return errors;
    }

    Task<Dictionary<string, string[]>> IInputCheck<RegisterRequest>.CheckAsync(RegisterRequest request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct) =>
        Task.FromResult(Check(request, refused));
}
