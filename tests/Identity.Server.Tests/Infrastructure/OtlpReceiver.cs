using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>A span as an OTLP collector receives it (opentelemetry/proto/trace/v1/trace.proto).</summary>
public sealed record ReceivedSpan(string Scope, string Name, string TraceId, string SpanId, string ParentSpanId);

/// <summary>
/// The receiving end of OTLP over HTTP (<c>http/protobuf</c>) on a loopback port: keeps every request body posted to
/// <c>/v1/traces</c> and <c>/v1/metrics</c>, and reads the spans out of the trace exports.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> received = new();
    private readonly Task loop;

    public OtlpReceiver()
    {
        Port = TestHosts.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ReceiveAsync);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IEnumerable<byte[]> Bodies(string path) => received.Where(r => r.Path == path).Select(r => r.Body);

    public IReadOnlyList<ReceivedSpan> Spans => Bodies("/v1/traces").SelectMany(ReadSpans).ToList();

    /// <summary>Whether any metrics export named <paramref name="instrument"/> (names travel as plain UTF-8 strings).</summary>
    public bool ReceivedMetric(string instrument)
    {
        var name = Encoding.UTF8.GetBytes(instrument);
        return Bodies("/v1/metrics").Any(body => body.AsSpan().IndexOf(name) >= 0);
    }

    private async Task ReceiveAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException) { return; }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
            // An export still arriving while the test disposes the receiver: nobody reads it any more.
            catch (Exception exception) when ((exception is HttpListenerException or ObjectDisposedException or IOException) && !listener.IsListening)
            {
                return;
            }
        }
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }   InstrumentationScope { string name = 1; }
    // Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5; ... }
    private static IEnumerable<ReceivedSpan> ReadSpans(byte[] export)
    {
        foreach (var resourceSpans in Protobuf.Messages(export, 1))
        foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
        {
            var scope = Protobuf.Messages(scopeSpans, 1).Select(s => Protobuf.String(s, 1)).FirstOrDefault() ?? "";
            foreach (var span in Protobuf.Messages(scopeSpans, 2))
                yield return new ReceivedSpan(scope, Protobuf.String(span, 5) ?? "", Protobuf.Hex(span, 1), Protobuf.Hex(span, 2), Protobuf.Hex(span, 4));
        }
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop;
    }

    /// <summary>Just enough of the protobuf wire format to walk nested messages and read bytes and strings.</summary>
    private static class Protobuf
    {
        public static IEnumerable<byte[]> Messages(byte[] message, int field) => Fields(message).Where(f => f.Field == field).Select(f => f.Bytes);

        public static string? String(byte[] message, int field) =>
            Fields(message).Where(f => f.Field == field).Select(f => Encoding.UTF8.GetString(f.Bytes)).FirstOrDefault();

        public static string Hex(byte[] message, int field) =>
            Fields(message).Where(f => f.Field == field).Select(f => Convert.ToHexString(f.Bytes)).FirstOrDefault() ?? "";

        /// <summary>Length-delimited fields with their bytes; other wire types are skipped.</summary>
        private static List<(int Field, byte[] Bytes)> Fields(byte[] message)
        {
            var fields = new List<(int, byte[])>();
            var position = 0;
            while (position < message.Length)
            {
                var key = Varint(message, ref position);
                var (field, wireType) = ((int)(key >> 3), (int)(key & 7));
                switch (wireType)
                {
                    case 0: Varint(message, ref position); break;
                    case 1: position += 8; break;
                    case 5: position += 4; break;
                    case 2:
                        var length = (int)Varint(message, ref position);
                        fields.Add((field, message[position..(position + length)]));
                        position += length;
                        break;
                    default: throw new InvalidDataException($"wire type {wireType}");
                }
            }
            return fields;
        }

        private static ulong Varint(byte[] message, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = message[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
        }
    }
}
