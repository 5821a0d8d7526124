using Identity.Server.Protocol.Token;

namespace Identity.Server.Protocol.Resources;

/// <summary>RFC 8707 <c>resource</c> values against the audiences a token may have: the same string, or the same absolute URI.</summary>
internal static class RequestedResources
{
    /// <summary>The audiences <paramref name="resources"/> name among <paramref name="reach"/>, in order, once each; null if one names none.</summary>
    public static List<string>? Resolve(IEnumerable<string> resources, IReadOnlyCollection<string> reach)
    {
        var audiences = new List<string>();
        foreach (var resource in resources)
        {
            if (RejectTargetsNotInSubjectToken.Resolve(resource, reach) is not { } audience) return null;
            if (!audiences.Contains(audience)) audiences.Add(audience);
        }
        return audiences;
    }

    /// <summary>The first of <paramref name="resources"/> that names none of <paramref name="reach"/>, or null.</summary>
    public static string? Outside(IEnumerable<string> resources, IReadOnlyCollection<string> reach) =>
        resources.FirstOrDefault(resource => RejectTargetsNotInSubjectToken.Resolve(resource, reach) is null);

    public static string NotReached(string resource) =>
        $"The resource '{(resource.Length <= 60 ? resource : resource[..60] + "...")}' is not one of the requested scopes' resources.";
}
