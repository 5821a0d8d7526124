using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Hosting;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Database:Provider", "Oracle")]
    public async Task InvalidValue_StopsStartUp_NamingTheKey(string key, string value)
    {
        var postgres = await TestPostgres.GetAsync();
        await using var server = ConfiguredServer.OnPostgres(postgres.ConnectionString("postgres"),
            new Dictionary<string, string?> { [key] = value, ["Database:MigrateOnStartup"] = "false" });

        var failure = Record.Exception(() => server.CreateClient());

        Assert.NotNull(failure);
        Assert.Contains(key, Flatten(failure));
    }

    private static string Flatten(Exception exception) =>
        exception is AggregateException aggregate
            ? string.Join("\n", aggregate.InnerExceptions.Select(Flatten))
            : exception.Message + (exception.InnerException is { } inner ? "\n" + Flatten(inner) : "");
}
