using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Identity.Server.Accounts;

/// <summary>
/// SPEC §3, §6: a JSON body with a repeated member, or that is not UTF-8, is a 400 — wherever it is. System.Text.Json
/// refuses a repeated member only among those it binds, and skips any other member without decoding it, so
/// <c>{"email":"a@x","zzz":"\xff","zzz":2}</c> passed. This reads the body once before binding: every string and name
/// must be UTF-8 (RFC 8259 §8.1), and no object may name a member twice (names compared as binding compares them,
/// without regard to case, after unescaping). Malformed JSON is left to the formatter, which says where it stopped.
/// </summary>
internal sealed class RejectRepeatedOrInvalidJson : IAsyncResourceFilter
{
    private const string Repeated = "This member appears more than once; send it once.";
    private const string NotUtf8 = "Expected a string of valid UTF-8.";
    private const string NotUnicode = "Expected a string of valid Unicode text; this one has a lone surrogate escape.";

    public async Task OnResourceExecutionAsync(ResourceExecutingContext context, ResourceExecutionDelegate next)
    {
        var request = context.HttpContext.Request;
        if (request.HasJsonContentType() && request.ContentLength != 0)
        {
            request.EnableBuffering();
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, context.HttpContext.RequestAborted);
            request.Body.Position = 0;
            if (Problem(body.GetBuffer().AsSpan(0, (int)body.Length)) is { } problem)
            {
                context.ModelState.AddModelError(problem.Path, problem.Message);
                context.Result = InvalidInput.Problem(context);
                return;
            }
        }
        await next();
    }

    /// <summary>The path and the error of the first problem, or null.</summary>
    internal static (string Path, string Message)? Problem(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        var members = new Stack<HashSet<string>>();
        // Errors name the top level's member, as the formatter names them ("$.email" → "email").
        var at = "$";
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        members.Push(new HashSet<string>(StringComparer.OrdinalIgnoreCase));
                        break;
                    case JsonTokenType.EndObject:
                        members.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        if (!reader.ValueIsEscaped && !Utf8.IsValid(reader.ValueSpan)) return (at, NotUtf8);
                        if (Unescaped(ref reader) is not { } name) return (at, NotUnicode);
                        if (members.Count == 1) at = "$." + name;
                        if (!members.Peek().Add(name)) return (at, Repeated);
                        break;
                    case JsonTokenType.String:
                        if (!reader.ValueIsEscaped && !Utf8.IsValid(reader.ValueSpan)) return (at, NotUtf8);
                        if (reader.ValueIsEscaped && Unescaped(ref reader) is null) return (at, NotUnicode);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed: the formatter's own error says where.
        }
        return null;
    }

    /// <summary>The string unescaped, or null when an escape is a lone surrogate (<c>"\ud800"</c>), which no text holds.</summary>
    private static string? Unescaped(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
