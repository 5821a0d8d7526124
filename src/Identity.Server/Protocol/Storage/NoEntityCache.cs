using System.Collections.Immutable;
using OpenIddict.Abstractions;

namespace Identity.Server.Protocol.Storage;

/// <summary>
/// Takes the place of OpenIddict's four entity caches, which <see cref="ProtocolRegistration"/> turns off
/// (<c>DisableEntityCaching</c>): the stores already hand out one instance per row and request
/// (<see cref="UntrackedRows"/>, <see cref="TokenWrites"/>, the change tracker) and clients from the node's
/// <see cref="ApplicationSnapshots"/>. OpenIddict's caches are scoped, so each request would still build a
/// <c>MemoryCache</c> per entity type for its managers and dispose of it unused. This one is a singleton and is never
/// called while caching is off; a call means caching was turned back on without it, so it fails loudly rather than
/// answering "not found".
/// </summary>
internal sealed class NoEntityCache<T> : IOpenIddictApplicationCache<T>, IOpenIddictAuthorizationCache<T>, IOpenIddictScopeCache<T>,
    IOpenIddictTokenCache<T> where T : class
{
    private static InvalidOperationException Off() => new("OpenIddict's entity caching is disabled; NoEntityCache must not be called.");

    public ValueTask AddAsync(T entity, CancellationToken cancellationToken) => throw Off();
    public ValueTask RemoveAsync(T entity, CancellationToken cancellationToken) => throw Off();
    public ValueTask<T?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindBySubjectAsync(string subject, CancellationToken cancellationToken) => throw Off();

    public ValueTask<T?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) => throw Off();

    public IAsyncEnumerable<T> FindAsync(string? subject, string? client, string? status, string? type, ImmutableArray<string>? scopes,
        CancellationToken cancellationToken) => throw Off();

    public ValueTask<T?> FindByNameAsync(string name, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindByNamesAsync(ImmutableArray<string> names, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindByResourceAsync(string resource, CancellationToken cancellationToken) => throw Off();

    public IAsyncEnumerable<T> FindAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken) => throw Off();
    public IAsyncEnumerable<T> FindByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken) => throw Off();
    public ValueTask<T?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken) => throw Off();
}
