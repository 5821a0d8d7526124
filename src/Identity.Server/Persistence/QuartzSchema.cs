using System.Text.RegularExpressions;

namespace Identity.Server.Persistence;

/// <summary>
/// Quartz.NET ships the DDL of its ADO.NET job store inside its assembly, for its own version. A migration line
/// <c>-- @quartz-schema PREFIX</c> stands for that script with the table prefix filled in, so our migrations create
/// Quartz's tables (under our history and lock) without a hand-copied schema that could fall behind the package.
/// </summary>
internal static partial class QuartzSchema
{
    private const string Resource = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";

    public static string Expand(string script) => Directive().Replace(script, match => Postgres(match.Groups[1].Value));

    private static string Postgres(string prefix)
    {
        using var stream = typeof(Quartz.IScheduler).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The Quartz package no longer embeds {Resource}; write its schema into a migration.");
        using var reader = new StreamReader(stream);
        // {0} is the prefix as written, {1} the same without a schema qualifier (for index and constraint names).
        return reader.ReadToEnd().Replace("{0}", prefix).Replace("{1}", prefix[(prefix.LastIndexOf('.') + 1)..]);
    }

    [GeneratedRegex(@"^-- @quartz-schema (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Directive();
}
