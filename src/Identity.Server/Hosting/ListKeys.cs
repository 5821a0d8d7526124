namespace Identity.Server.Hosting;

/// <summary>
/// The configuration key of each element of a bound list, as the operator wrote it, for messages that name the key to
/// fix: the binder numbers a list afresh from the section's children, so an element declared as Identity__Clients__6__*
/// alone is element 0, and its message must name the 6. When the binder dropped an element (a value it could not
/// convert), positions no longer match, and each element's own index stands in.
/// </summary>
internal static class ListKeys
{
    public static IReadOnlyList<string> Of(IConfiguration configuration, string section, int count)
    {
        var written = configuration.GetSection(section).GetChildren().Select(child => child.Path).ToList();
        return written.Count == count ? written : [.. Enumerable.Range(0, count).Select(i => $"{section}:{i}")];
    }
}
