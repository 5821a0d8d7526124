using Identity.Server.Accounts;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// The token and authorization rows this request read by hand (<see cref="TokenQueries"/>), with the person read
/// alongside, and the node's copies of clients (<see cref="ApplicationSnapshots"/>), handed out untracked: EF's
/// tracking of a row costs about as much as reading it, and most requests only read them (client authentication,
/// introspection, userinfo, every access token's entry check). The stores look here before the context and the database, so a row is one instance per
/// request, and make the context track a row only when something is about to write it or a row that refers to it
/// (<see cref="Track(DbContext, OpenIddictEntityFrameworkCoreToken{Guid})"/>). Navigations stand for the foreign keys
/// until then: a row's client and authorization are always set when its keys are.
/// </summary>
internal sealed class UntrackedRows
{
    private readonly Dictionary<Guid, OpenIddictEntityFrameworkCoreToken<Guid>> tokens = [];
    private readonly Dictionary<Guid, OpenIddictEntityFrameworkCoreAuthorization<Guid>> authorizations = [];
    private readonly Dictionary<Guid, OpenIddictEntityFrameworkCoreApplication<Guid>> applications = [];
    private readonly Dictionary<string, ApplicationUser> users = new(StringComparer.Ordinal);

    public OpenIddictEntityFrameworkCoreToken<Guid>? Token(Guid id) => tokens.GetValueOrDefault(id);

    public OpenIddictEntityFrameworkCoreToken<Guid>? TokenByReferenceId(string referenceId)
    {
        foreach (var token in tokens.Values)
            if (string.Equals(token.ReferenceId, referenceId, StringComparison.Ordinal)) return token;
        return null;
    }

    public OpenIddictEntityFrameworkCoreAuthorization<Guid>? Authorization(Guid id) => authorizations.GetValueOrDefault(id);

    /// <summary>The person read with a token this request (never written through here: the rows are only read).</summary>
    public ApplicationUser? User(string id) => users.GetValueOrDefault(id);

    public void Add(ApplicationUser user) => users[user.Id] = user;

    /// <summary>This request's instance of an authorization: the untracked one, else the one the context tracks, else null.</summary>
    public OpenIddictEntityFrameworkCoreAuthorization<Guid>? KnownAuthorization(DbContext db, Guid id) =>
        Authorization(id) ?? TrackedEntities.Find<OpenIddictEntityFrameworkCoreAuthorization<Guid>>(db, a => a.Id == id);

    public OpenIddictEntityFrameworkCoreApplication<Guid>? Application(Guid id) => applications.GetValueOrDefault(id);

    public OpenIddictEntityFrameworkCoreApplication<Guid>? ApplicationByClientId(string clientId)
    {
        foreach (var application in applications.Values)
            if (string.Equals(application.ClientId, clientId, StringComparison.Ordinal)) return application;
        return null;
    }

    /// <summary>This request's instance of a client: the one the context tracks, else the untracked one, else null.</summary>
    public OpenIddictEntityFrameworkCoreApplication<Guid>? KnownApplication(DbContext db, Guid id) =>
        TrackedEntities.Find<OpenIddictEntityFrameworkCoreApplication<Guid>>(db, a => a.Id == id) ?? Application(id);

    /// <summary>Keeps a client copy as this request's; the instance kept (an earlier one of the same row wins).</summary>
    public OpenIddictEntityFrameworkCoreApplication<Guid> Add(OpenIddictEntityFrameworkCoreApplication<Guid> application) =>
        applications.TryAdd(application.Id, application) ? application : applications[application.Id];

    public void Add(OpenIddictEntityFrameworkCoreToken<Guid> token)
    {
        tokens[token.Id] = token;
        if (token.Authorization is { } authorization) authorizations.TryAdd(authorization.Id, authorization);
    }

    /// <summary>
    /// Before a write that attaches <paramref name="token"/>'s graph (an update, a delete, a new row through EF): the
    /// context tracks the token if it is one of these, and whatever it refers to (the context's own instance of a
    /// row it already tracks).
    /// </summary>
    public void Track(DbContext db, OpenIddictEntityFrameworkCoreToken<Guid> token)
    {
        if (token.Authorization is { } authorization) token.Authorization = Track(db, authorization);
        token.Application = Attached(db, token.Application);
        if (!tokens.TryGetValue(token.Id, out var known) || !ReferenceEquals(known, token)) return;
        tokens.Remove(token.Id);
        TrackedEntities.TrackUnchanged(db, token, ("ApplicationId", token.Application?.Id), ("AuthorizationId", token.Authorization?.Id));
    }

    /// <summary>The same for an authorization; one the context already tracks is returned as the context's.</summary>
    public OpenIddictEntityFrameworkCoreAuthorization<Guid> Track(DbContext db, OpenIddictEntityFrameworkCoreAuthorization<Guid> authorization)
    {
        var read = authorizations.TryGetValue(authorization.Id, out var known) && ReferenceEquals(known, authorization);
        if (read)
        {
            authorizations.Remove(authorization.Id);
            if (TrackedEntities.Find<OpenIddictEntityFrameworkCoreAuthorization<Guid>>(db, e => e.Id == authorization.Id) is { } tracked) return tracked;
        }
        authorization.Application = Attached(db, authorization.Application);
        if (read) TrackedEntities.TrackUnchanged(db, authorization, ("ApplicationId", authorization.Application?.Id));
        return authorization;
    }

    /// <summary>The context's instance of this client: the one it tracks, else this one, attached.</summary>
    public OpenIddictEntityFrameworkCoreApplication<Guid>? Attached(DbContext db, OpenIddictEntityFrameworkCoreApplication<Guid>? application)
    {
        if (application is null) return null;
        if (TrackedEntities.Find<OpenIddictEntityFrameworkCoreApplication<Guid>>(db, e => e.Id == application.Id) is { } tracked) return tracked;
        applications.Remove(application.Id);
        db.Attach(application);
        return application;
    }
}
