using Microsoft.AspNetCore.Mvc.Testing;

namespace Identity.Server.Tests.Infrastructure;

public static class StartUpFailure
{
    /// <summary>Starts the host, which must fail, and returns every message of the failure, inner exceptions included.</summary>
    public static string Of(WebApplicationFactory<Program> host)
    {
        var failure = Record.Exception(() => host.CreateClient());
        Assert.NotNull(failure);
        return Flatten(failure);
    }

    private static string Flatten(Exception exception) =>
        exception is AggregateException aggregate
            ? string.Join("\n", aggregate.InnerExceptions.Select(Flatten))
            : exception.Message + (exception.InnerException is { } inner ? "\n" + Flatten(inner) : "");
}
