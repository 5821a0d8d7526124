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
        Assert.Equal(5, tuned.CommandTimeout);
        Assert.Equal(GssEncryptionMode.Disable, tuned.GssEncryptionMode);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(64, tuned.MaxAutoPrepare);
    }

    [Fact]
    public void OperatorSettings_AreKept()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned(
            "Host=db;Timeout=30;Command Timeout=60;GSS Encryption Mode=Require;No Reset On Close=false;Max Auto Prepare=0"));
        Assert.Equal(30, tuned.Timeout);
        Assert.Equal(60, tuned.CommandTimeout);
        Assert.Equal(GssEncryptionMode.Require, tuned.GssEncryptionMode);
        Assert.False(tuned.NoResetOnClose);
        Assert.Equal(0, tuned.MaxAutoPrepare);
    }

    [Fact]
    public void Multiplexing_IsNeverOn()
    {
        // The pool carries transactions, which a multiplexed pool can stall for minutes under load.
        var tuned = new NpgsqlConnectionStringBuilder(PersistenceRegistration.Tuned("Host=db;Database=identity;Multiplexing=true"));
        Assert.False(tuned.Multiplexing);
    }
}
