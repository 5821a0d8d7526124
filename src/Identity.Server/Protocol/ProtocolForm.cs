using Microsoft.Extensions.Primitives;

namespace Identity.Server.Protocol;

/// <summary>
/// A protocol request's form body, read defensively: the wrong content type, an unreadable or oversized body and
/// repeated parameters (RFC 6749 §3.1, §3.2: "MUST NOT be included more than once") are invalid_request, never a 5xx.
/// </summary>
internal sealed class ProtocolForm
{
    private readonly IReadOnlyDictionary<string, StringValues> values;

    private ProtocolForm(IReadOnlyDictionary<string, StringValues> values) => this.values = values;

    /// <summary>Every parameter with its single value.</summary>
    public IEnumerable<KeyValuePair<string, string>> Pairs => values.Select(p => new KeyValuePair<string, string>(p.Key, p.Value.ToString()));

    /// <summary>The single value of a parameter; an empty value counts as absent (RFC 6749 §3.1).</summary>
    public string? this[string name] => values.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) ? value[0] : null;

    public static async Task<(ProtocolForm? Form, OAuthError? Error)> ReadAsync(HttpRequest http, CancellationToken ct)
    {
        if (!http.HasFormContentType || http.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true)
            return (null, OAuthError.InvalidRequest("Send the parameters as application/x-www-form-urlencoded."));
        IFormCollection form;
        try
        {
            form = await http.ReadFormAsync(ct);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException or IOException)
        {
            var status = exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            return (null, OAuthError.InvalidRequest("The request body could not be read or is too large.") with { StatusCode = status });
        }
        return FromPairs(form.ToDictionary(p => p.Key, p => p.Value));
    }

    /// <summary>For GET endpoints (userinfo, authorize): the query string under the same rules.</summary>
    public static (ProtocolForm? Form, OAuthError? Error) FromQuery(IQueryCollection query) =>
        FromPairs(query.ToDictionary(p => p.Key, p => p.Value));

    private static (ProtocolForm? Form, OAuthError? Error) FromPairs(Dictionary<string, StringValues> pairs)
    {
        var repeated = pairs.FirstOrDefault(p => p.Value.Count > 1).Key;
        return repeated is not null
            ? (null, OAuthError.InvalidRequest($"The parameter '{Shorten(repeated)}' is repeated."))
            : (new ProtocolForm(pairs), null);
    }

    private static string Shorten(string name) => name.Length <= 40 ? name : name[..40] + "…";
}
