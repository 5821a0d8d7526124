namespace Identity.Server.Pages;

/// <summary>A one-line outcome shown on a page: "success", "info" or "error" (an error is announced as an alert).</summary>
public sealed record PageMessage(string Kind, string Text)
{
    public static PageMessage Success(string text) => new("success", text);
    public static PageMessage Info(string text) => new("info", text);
    public static PageMessage Error(string text) => new("error", text);
}
