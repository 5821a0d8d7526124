using OpenQA.Selenium;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>Waiting for a page after a click: navigation completes on its own schedule, and old elements go stale.</summary>
public static class BrowserWaits
{
    public static void Until(this IWebDriver browser, Func<bool> condition, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (condition()) return;
            }
            catch (StaleElementReferenceException) { }
            Thread.Sleep(100);
        }
        Assert.Fail(describe?.Invoke() ?? $"Timed out on {browser.Url}:\n{browser.FindElement(By.TagName("body")).Text}");
    }

    public static IWebElement WaitFor(this IWebDriver browser, By by)
    {
        IWebElement? found = null;
        browser.Until(() => (found = browser.FindElements(by).FirstOrDefault()) is not null);
        return found!;
    }
}
