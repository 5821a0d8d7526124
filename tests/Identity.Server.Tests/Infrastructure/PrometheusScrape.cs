using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>One sample of a <c>/metrics</c> scrape: series name, labels and value.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A <c>GET /metrics</c> answer in Prometheus text format, parsed.</summary>
public sealed partial class PrometheusScrape(IReadOnlyList<Sample> samples, string text)
{
    public IReadOnlyList<Sample> Samples => samples;
    public string Text => text;

    /// <summary>Every series name in the scrape (<c>x_total</c>, <c>x_bucket</c>, <c>x_sum</c>, <c>x_count</c>, gauges).</summary>
    public IReadOnlySet<string> Names => samples.Select(s => s.Name).ToHashSet();

    public static async Task<PrometheusScrape> GetAsync(HttpClient http)
    {
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = Label().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["key"].Value, m => Regex.Unescape(m.Groups["value"].Value));
            samples.Add(new Sample(match.Groups["name"].Value, labels, Number(match.Groups["value"].Value)));
        }
        return new PrometheusScrape(samples, text);
    }

    /// <summary>The sum of the series <paramref name="name"/> whose labels include all of <paramref name="labels"/> (0 when none).</summary>
    public double Value(string name, params (string Key, string Value)[] labels) => samples
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
        .Sum(s => s.Value);

    private static double Number(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(value, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)",?""")]
    private static partial Regex Label();
}
