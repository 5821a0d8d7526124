namespace Identity.Server.Tests.Infrastructure;

/// <summary>A clock the tests move by hand (Microsoft.Extensions.TimeProvider.Testing does not restore here).</summary>
public sealed class TestTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long ticks = start.UtcTicks;
    public TestTimeProvider() : this(DateTimeOffset.UtcNow) { }
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);
    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}
