using Identity.Server.Protocol;

namespace Identity.Server.Hosting;

/// <summary>Which error format a path answers in (SPEC §6): OAuth error JSON, problem details, or an HTML page.</summary>
internal enum EndpointFamily { Protocol, Api, Page }

internal static class EndpointFamilies
{
    /// <summary>
    /// The endpoints clients call without a person in front (SPEC §2), and everything under /.well-known. Authorization,
    /// end session and verification are pages: a browser is sent there, and their errors are shown to a person.
    /// </summary>
    private static readonly string[] ProtocolPrefixes =
    [
        ProtocolPaths.Token, ProtocolPaths.Revocation, ProtocolPaths.Introspection,
        ProtocolPaths.UserInfo, ProtocolPaths.PushedAuthorization, ProtocolPaths.DeviceAuthorization,
        "/.well-known",
    ];

    public static EndpointFamily Of(PathString path)
    {
        foreach (var prefix in ProtocolPrefixes)
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase)) return EndpointFamily.Protocol;
        return path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
            ? EndpointFamily.Api
            : EndpointFamily.Page;
    }

    /// <summary>An error of the protocol family written outside OpenIddict: RFC 6749 §5.2's <c>{"error","error_description"}</c>.</summary>
    public static Task WriteOAuthErrorAsync(HttpResponse response, string code, string description) =>
        response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = code, ["error_description"] = description });
}
