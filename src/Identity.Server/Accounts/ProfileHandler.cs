using System.Security.Claims;
using Identity.Server.Accounts.Contracts;
using Identity.Server.Email;
using Identity.Server.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Accounts;

/// <summary>PUT /api/account/profile. A new email stays pending until the link sent to it is clicked (SPEC §3).</summary>
internal sealed class ProfileHandler(ServerDbContext db, UserManager<ApplicationUser> users, AccountTokens tokens, AccountEmails emails,
    EmailOutbox outbox, ProfileReader profiles, TimeProvider time) : IInputCheck<UpdateProfileRequest>
{
    public async Task<(ProfileResponse? Profile, AccountError? Error)> UpdateAsync(string userId, UpdateProfileRequest request, CancellationToken ct)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null) return (null, AccountError.Field("", "The account no longer exists."));
        if (AccountError.Invalid(Check(request, user)) is { } invalid) return (null, invalid);
        var rename = request.UserName is not null && request.UserName != user.UserName;
        var sameEmail = request.Email is not null && string.Equals(request.Email, user.Email, StringComparison.OrdinalIgnoreCase);
        var newEmail = request.Email is not null && !sameEmail ? request.Email : null;
        // Before the rename, which is saved at once: a refused request changes nothing.
        if (newEmail is not null && await users.FindByEmailAsync(newEmail) is not null)
            return (null, AccountError.Field("email", "An account with this email already exists.", StatusCodes.Status409Conflict));
        if (rename)
        {
            // User names match without regard to case, so the account found may be this one: a new spelling of its own
            // name ("Alice.Name" to "alice.name", or its address in capitals), which nobody else holds.
            if (await users.FindByNameAsync(request.UserName!) is { } holder && holder.Id != user.Id) return (null, UserNameTaken());
            IdentityResult renamed;
            try
            {
                renamed = await users.SetUserNameAsync(user, request.UserName);
            }
            catch (DbUpdateException exception) when (UniqueViolation.Is(exception))
            {
                // Someone else took the name between the look above and this write: the unique index decided.
                return (null, UserNameTaken());
            }
            if (!renamed.Succeeded) return (null, AccountError.FromIdentity(renamed));
        }

        if (request.FirstName is not null) user.FirstName = request.FirstName;
        if (request.LastName is not null) user.LastName = request.LastName;
        user.UpdatedAt = time.GetUtcNow();
        var updated = await users.UpdateAsync(user);
        if (!updated.Succeeded) return (null, AccountError.FromIdentity(updated));
        // Asking for the address the account has is how a client takes back a change it asked for: the link sent
        // to the other address stops working, as a newer change's would end it (SPEC §3).
        if (sameEmail) await tokens.CancelEmailChangeAsync(user.Id, user.Email, ct);
        if (newEmail is not null)
        {
            var token = await tokens.IssueAsync(user.Id, AccountTokenPurpose.ConfirmEmail, newEmail, ct);
            outbox.Enqueue(emails.Confirmation(newEmail, user.Id, token));
            await db.SaveChangesAsync(ct);
        }
        return (await profiles.ReadAsync(user.Id, ct), null);
    }

    /// <summary>The user name, which needs the account: when the request's attributes refused another field too.</summary>
    public async Task<Dictionary<string, string[]>> CheckAsync(UpdateProfileRequest request, ClaimsPrincipal caller, IReadOnlySet<string> refused, CancellationToken ct) =>
        refused.Contains("userName") || request.UserName is null || await users.FindByIdAsync(caller.FindFirst("sub")!.Value) is not { } user ? [] : Check(request, user);

    /// <summary>Every 400 an update can get besides its attributes' (a 409 comes after them).</summary>
    private static Dictionary<string, string[]> Check(UpdateProfileRequest request, ApplicationUser user)
    {
        var errors = new Dictionary<string, string[]>();
        // A pending address is not the account's yet: confirming it moves a user name that was the old address.
        if (request.UserName is not null && request.UserName != user.UserName && UserNames.IsAnotherAddress(request.UserName, user.Email))
            errors["userName"] = [UserNames.NotOwnAddressMessage];
        return errors;
    }

    private static AccountError UserNameTaken() => AccountError.Field("userName", "This user name is taken.", StatusCodes.Status409Conflict);
}
