using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>Keeps the log events a host writes, for tests that can only observe a background job through its log.</summary>
public sealed class LogRecorder
{
    private readonly ConcurrentQueue<Entry> entries = new();

    public sealed record Entry(string Node, EventId EventId, DateTimeOffset At, IReadOnlyDictionary<string, object?> State, LogLevel Level, string Category);

    public IReadOnlyList<Entry> Entries => [.. entries];

    /// <summary>Records this host's events under <paramref name="node"/> (test hosts otherwise log nothing).</summary>
    public Action<IWebHostBuilder> For(string node) => builder => builder.ConfigureLogging(logging =>
    {
        logging.AddProvider(new NodeProvider(this, node));
        logging.AddFilter<NodeProvider>(null, LogLevel.Information);
    });

    private sealed class NodeProvider(LogRecorder recorder, string node) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new NodeLogger(recorder, node, categoryName);
        public void Dispose() { }
    }

    private sealed class NodeLogger(LogRecorder recorder, string node, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            recorder.entries.Enqueue(new Entry(node, eventId, DateTimeOffset.UtcNow, values.ToDictionary(v => v.Key, v => v.Value), logLevel, category));
        }
    }
}
