namespace Identity.Server.Protocol.Validation;

/// <summary>
/// The access token of an Authorization header. RFC 6750 §2.1: <c>credentials = "Bearer" 1*SP b64token</c>, so any
/// number of spaces may follow the scheme name, which is case-insensitive (RFC 9110 §11.1).
/// </summary>
internal static class BearerHeader
{
    public static string? TokenOf(string? header) =>
        header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].TrimStart(' ') : null;
}
