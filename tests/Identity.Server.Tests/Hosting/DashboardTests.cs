using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Identity.Server.Accounts;
using Identity.Server.Hosting;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// docs/grafana-dashboard.json queries only metrics the server publishes, under the names its Prometheus endpoint
/// renders, and charts every instrument of our meter. A host of its own records one event on every instrument (emails
/// included, which need no mail server for that), answers a request and reads the database, then is scraped.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class DashboardTests(ServerFixture server)
{
    private static readonly string DashboardPath = Path.Combine(RepositoryPaths.Root, "docs", "grafana-dashboard.json");

    [Fact]
    public async Task EveryMetricTheDashboardQueries_IsPublished_AndEveryInstrumentIsCharted()
    {
        await using var node = ConfiguredServer.OnPostgres(server.ConnectionString, new Dictionary<string, string?> { ["Telemetry:Prometheus:Enabled"] = "true" });
        var http = node.CreateClient();
        var metrics = node.Services.GetRequiredService<ServerMetrics>();
        var instruments = InstrumentsOf(node.Services.GetRequiredService<IMeterFactory>());
        RecordOneOfEach(metrics);
        await http.GetAsync("/.well-known/openid-configuration");
        var published = (await PrometheusScrape.GetAsync(http)).Names;

        var queried = DashboardQueries().SelectMany(MetricNames).ToHashSet();

        Assert.NotEmpty(queried);
        Assert.All(queried, name => Assert.True(published.Contains(name), $"the dashboard queries {name}, which nothing publishes"));
        Assert.NotEmpty(instruments);
        Assert.All(instruments, instrument =>
        {
            var rendered = instrument.Replace('.', '_');
            Assert.True(published.Any(p => p.StartsWith(rendered, StringComparison.Ordinal)), $"{instrument} recorded nothing: RecordOneOfEach misses it");
            Assert.True(queried.Any(q => q.StartsWith(rendered, StringComparison.Ordinal)), $"the dashboard does not chart {instrument}");
        });
    }

    [Theory]
    [InlineData("sum by (grant_type) (rate(identity_tokens_issued_total{job=~\"$job\"}[$__rate_interval]))", "identity_tokens_issued_total")]
    [InlineData("histogram_quantile(0.95, sum by (le, http_route) (rate(x_bucket{a=\"b\", c=~\"4..|5..\"}[5m])))", "x_bucket")]
    [InlineData("sum(increase(a_total[1h])) / clamp_min(sum(increase(b_count{job=~\"$job\"}[$__range])), 1)", "a_total b_count")]
    [InlineData("label_values(target_info, job)", "target_info")]
    public void MetricNames_AreReadOutOfPromQl(string expression, string expected) =>
        Assert.Equal(expected.Split(' '), MetricNames(expression).Order());

    private static IEnumerable<string> DashboardQueries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var queries = new List<string>();
        void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name is "expr" or "definition" && property.Value.ValueKind == JsonValueKind.String) queries.Add(property.Value.GetString()!);
                    else Walk(property.Value);
                }
            else if (element.ValueKind == JsonValueKind.Array)
                foreach (var item in element.EnumerateArray()) Walk(item);
        }
        Walk(dashboard.RootElement);
        return queries;
    }

    /// <summary>
    /// The metric names in a PromQL expression (or a Grafana <c>label_values(metric, label)</c>): what is left once
    /// strings, label matchers, ranges and grouping clauses are gone, minus functions (a name before a parenthesis) and keywords.
    /// </summary>
    private static IEnumerable<string> MetricNames(string expression)
    {
        if (LabelValues().Match(expression) is { Success: true } labelValues) return [labelValues.Groups["metric"].Value];
        var bare = Grouping().Replace(Ranges().Replace(Matchers().Replace(Strings().Replace(expression, ""), ""), ""), "");
        return Identifiers().Matches(bare).Select(m => m.Value).Where(name => !Keywords.Contains(name)).Distinct();
    }

    private static readonly HashSet<string> Keywords = ["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan"];

    [GeneratedRegex("""^\s*label_values\(\s*(?<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*,""")]
    private static partial Regex LabelValues();
    [GeneratedRegex(@"""(\\.|[^""\\])*""")]
    private static partial Regex Strings();
    [GeneratedRegex("""\{[^}]*\}""")]
    private static partial Regex Matchers();
    [GeneratedRegex("""\[[^\]]*\]""")]
    private static partial Regex Ranges();
    [GeneratedRegex("""\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)""")]
    private static partial Regex Grouping();
    [GeneratedRegex("""(?<![\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()(?![\w.])""")]
    private static partial Regex Identifiers();

    /// <summary>The instruments our meter created in this host (MeterListener sees every host's; the factory tells them apart).</summary>
    private static List<string> InstrumentsOf(IMeterFactory factory)
    {
        var names = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == ServerMetrics.MeterName && instrument.Meter.Scope == factory) names.Add(instrument.Name);
        };
        listener.Start();
        return names;
    }

    private static void RecordOneOfEach(ServerMetrics metrics)
    {
        metrics.TokenIssued("client_credentials", "dashboard-test");
        metrics.RequestRefused("invalid_client");
        metrics.PasswordSignInFailed(SignInChannel.LoginPage, SignInOutcome.InvalidCredentials);
        metrics.LockedOut(SignInChannel.LoginPage);
        metrics.RefreshTokenReused();
        metrics.TokenRevoked("access_token");
        metrics.Introspected(active: false);
        metrics.EmailQueued();
        metrics.EmailSent();
        metrics.EmailFailedPermanently();
        metrics.SetOldestUnsentEmailAge(TimeSpan.FromMinutes(1));
        metrics.PruneRan(3, TimeSpan.FromSeconds(2));
        metrics.SigningKeyRotated("RS256");
    }
}
