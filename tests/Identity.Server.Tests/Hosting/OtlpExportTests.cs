using System.Net;
using System.Security.Cryptography;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

/// <summary>
/// With the standard <c>OTEL_EXPORTER_OTLP_*</c> settings, traces and metrics reach an OTLP collector (a real HTTP
/// receiver on loopback, reading the protobuf the exporter sends), and a token request's trace holds its database calls.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class OtlpExportTests(ServerFixture server)
{
    [Fact]
    public async Task TokenRequestTrace_HoldsItsDatabaseCalls_AndMetricsAreExported()
    {
        await using var collector = new OtlpReceiver();
        var node = ConfiguredServer.OnPostgres(server.ConnectionString, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        var data = new TestData(server);
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        // Our own trace id, as a calling service would send it: tracing listens process-wide, so this node also
        // exports what the suite's other hosts serve meanwhile.
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        bool IsTokenRequest(ReceivedSpan span) =>
            span.Scope == "Microsoft.AspNetCore" && span.Name == "POST /connect/token" && span.TraceId == traceId.ToUpperInvariant();
        await using (node)
        {
            var http = node.CreateClient();
            http.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
            Assert.Equal(HttpStatusCode.OK, (await new ProtocolClient(http).PasswordGrantAsync(client, user)).Status);
            // The request's span ends just after its response; it goes out with the next batch (every 100 ms here).
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(collector.Spans.Any(IsTokenRequest)), 100, TimeSpan.FromMilliseconds(100)));
            // Metrics go out every 200 ms here. Waiting for them, not for the flush at disposal: under the whole suite's
            // load that last export once came too late, and the test failed with the server right.
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(collector.ReceivedMetric("identity.tokens.issued")
                && collector.ReceivedMetric("http.server.request.duration")), 100, TimeSpan.FromMilliseconds(100)));
        }

        var spans = collector.Spans;
        var request = Assert.Single(spans, IsTokenRequest);
        var database = spans.Where(s => s.Scope == "Npgsql" && s.TraceId == request.TraceId && Descends(s, request, spans)).ToList();
        Assert.NotEmpty(database);
    }

    private static bool Descends(ReceivedSpan span, ReceivedSpan ancestor, IReadOnlyList<ReceivedSpan> all)
    {
        for (var current = span; current is not null; current = all.FirstOrDefault(s => s.SpanId == current.ParentSpanId && s.TraceId == current.TraceId))
            if (current.ParentSpanId == ancestor.SpanId) return true;
        return false;
    }
}
