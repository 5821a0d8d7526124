using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// <c>Identity:Clients:N:JsonWebKeySet</c>: a string of JSON (an environment variable), or the JWKS object itself in
/// a JSON settings file, which the configuration system flattens into keys (<c>…:JsonWebKeySet:keys:0:kty</c>) that
/// bind to no string; such a section is put back together as JSON. A JWK's members are strings or arrays of strings
/// (RFC 7517 §4), so nothing is lost.
/// </summary>
internal sealed class ClientKeySetBinding(IConfiguration configuration) : IPostConfigureOptions<List<ClientDefinition>>
{
    public void PostConfigure(string? name, List<ClientDefinition> clients)
    {
        foreach (var declared in configuration.GetSection("Identity:Clients").GetChildren())
        {
            var section = declared.GetSection("JsonWebKeySet");
            var json = section.Value ?? (section.GetChildren().Any() ? ToJson(section)?.ToJsonString() : null);
            if (json is null) continue;
            foreach (var client in clients.Where(c => c.ClientId == declared["ClientId"])) client.JsonWebKeySet = json;
        }
    }

    private static JsonNode? ToJson(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0) return section.Value is null ? null : JsonValue.Create(section.Value);
        // Configuration keeps array elements as children named 0, 1, 2…
        if (children.All(c => int.TryParse(c.Key, out _)))
            return new JsonArray([.. children.OrderBy(c => int.Parse(c.Key)).Select(ToJson)]);
        var json = new JsonObject();
        foreach (var child in children) json[child.Key] = ToJson(child);
        return json;
    }
}
