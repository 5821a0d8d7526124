namespace Identity.Server.Hosting;

/// <summary>Which error format a path answers in (SPEC §6): OAuth error JSON, problem details, or an HTML page.</summary>
internal enum EndpointFamily { Protocol, Api, Page }

internal static class EndpointFamilies
{
    private static readonly string[] ProtocolPaths =
        ["/connect/token", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/.well-known"];

    public static EndpointFamily Of(PathString path)
    {
        foreach (var prefix in ProtocolPaths)
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase)) return EndpointFamily.Protocol;
        return path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
            ? EndpointFamily.Api
            : EndpointFamily.Page;
    }
}
