namespace Identity.Server.Tests.Infrastructure;

/// <summary>Polling for what a background job or a recovering dependency makes true a little later.</summary>
public static class Eventually
{
    /// <summary>True as soon as <paramref name="condition"/> holds; false if it still does not after every attempt.</summary>
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, int attempts, TimeSpan delay)
    {
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            if (await condition()) return true;
            await Task.Delay(delay);
        }
        return false;
    }
}
