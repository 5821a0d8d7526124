using Identity.Server.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace Identity.Server.Hosting;

/// <summary>
/// ASP.NET Core's request metrics name a request's endpoint by <c>http.route</c>, which comes from the route it matched;
/// OpenIddict answers revocation, introspection, discovery, JWKS, pushed and device authorization itself, with no route,
/// so their requests were counted among unmatched ones and the dashboard could not show them per endpoint. Each gets
/// its path as the route, as a mapped endpoint's template would read. Unknown paths stay without one, which keeps the
/// label's values bounded.
/// </summary>
internal static class NameProtocolRoutes
{
    private static readonly HashSet<string> Paths = new(StringComparer.OrdinalIgnoreCase)
    {
        ProtocolPaths.Revocation, ProtocolPaths.Introspection, ProtocolPaths.PushedAuthorization, ProtocolPaths.DeviceAuthorization,
        ProtocolPaths.Configuration, ProtocolPaths.JsonWebKeySet, ProtocolPaths.Token, ProtocolPaths.Authorization, ProtocolPaths.UserInfo,
        ProtocolPaths.EndSession,
    };

    /// <summary>After routing: only a request that matched no endpoint is named here.</summary>
    public static IApplicationBuilder UseProtocolRouteNames(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.GetEndpoint() is null && Paths.TryGetValue(context.Request.Path.Value ?? "", out var route)
            && context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
            metrics.Tags.Add(new("http.route", route));
        return next(context);
    });
}
