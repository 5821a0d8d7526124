using Identity.Server.Persistence;
using Npgsql;

namespace Identity.Server.Tests.Persistence;

public sealed class ConnectionStringTests
{
    [Fact]
    public void Defaults_BoundTimeoutsAndTuneThePool()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned("Host=db;Database=identity"));
        Assert.Equal(5, tuned.Timeout);
        Assert.Equal(15, tuned.CommandTimeout);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(64, tuned.MaxAutoPrepare);
    }

    [Fact]
    public void OperatorSettings_AreKept()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned(
            "Host=db;Timeout=30;Command Timeout=60;No Reset On Close=false;Max Auto Prepare=0"));
        Assert.Equal(30, tuned.Timeout);
        Assert.Equal(60, tuned.CommandTimeout);
        Assert.False(tuned.NoResetOnClose);
        Assert.Equal(0, tuned.MaxAutoPrepare);
    }

    [Fact]
    public void SharedReads_AreMultiplexedOverASmallPool()
    {
        var shared = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned("Host=db;Database=identity", shared: true));
        Assert.True(shared.Multiplexing);
        Assert.Equal(PersistenceRegistration.SharedConnections, shared.MaxPoolSize);
        Assert.InRange(PersistenceRegistration.SharedConnections, 8, 4 * Environment.ProcessorCount + 8);

        // The ordinary pool (writes, transactions, the key ring's synchronous reads) never multiplexes, even when asked.
        var ordinary = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned("Host=db;Database=identity;Multiplexing=true"));
        Assert.False(ordinary.Multiplexing);
        Assert.Equal(100, ordinary.MaxPoolSize);
    }

    [Theory]
    [InlineData("Host=db;Multiplexing=false", false, 100)]
    [InlineData("Host=db;Maximum Pool Size=40", true, 40)]
    [InlineData("Host=db;Maximum Pool Size=3;Multiplexing=true", true, 3)]
    public void SharedConnections_KeepTheOperatorsChoice(string connectionString, bool multiplexing, int maxPoolSize)
    {
        var shared = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned(connectionString, shared: true));
        Assert.Equal(multiplexing, shared.Multiplexing);
        Assert.Equal(maxPoolSize, shared.MaxPoolSize);
    }
}
