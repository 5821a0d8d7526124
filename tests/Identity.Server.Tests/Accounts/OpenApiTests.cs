using System.Net;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Accounts;

[Collection(ServerCollection.Name)]
public sealed class OpenApiTests(ServerFixture server)
{
    [Fact]
    public async Task Document_DescribesTheAccountApi_WithSchemasAndErrors()
    {
        var response = await server.CreateClient().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var paths = json.GetProperty("paths");

        foreach (var path in new[] { "/api/account/register", "/api/account/confirm-email", "/api/account/confirm-email/resend", "/api/account/profile",
                     "/api/account/password", "/api/account/password/forgot", "/api/account/password/reset" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing");
        Assert.False(paths.TryGetProperty("/connect/token", out _));
        var register = paths.GetProperty("/api/account/register").GetProperty("post");
        Assert.True(register.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(register.GetProperty("responses").TryGetProperty("201", out _));
        Assert.True(register.GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(register.GetProperty("responses").TryGetProperty("415", out _));
        var schemas = json.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("RegisterRequest", out _));
        Assert.True(schemas.GetProperty("ProfileResponse").GetProperty("properties").TryGetProperty("pendingEmail", out _));
    }

    [Fact]
    public async Task Document_DeclaresTheBearerScheme_OnTheEndpointsThatNeedIt_AndTheirErrorAnswers()
    {
        var json = JsonDocument.Parse(await server.CreateClient().GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = json.GetProperty("paths");

        var scheme = json.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal(("http", "bearer", "JWT"), (scheme.GetProperty("type").GetString(), scheme.GetProperty("scheme").GetString(), scheme.GetProperty("bearerFormat").GetString()));
        foreach (var (path, method) in new[] { ("/api/account/profile", "get"), ("/api/account/profile", "put"), ("/api/account/password", "post") })
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            var requirement = Assert.Single(operation.GetProperty("security").EnumerateArray());
            Assert.True(requirement.TryGetProperty("Bearer", out _), $"{method} {path}: {requirement}");
            foreach (var status in new[] { "400", "401", "403", "413", "415", "503" })
                Assert.True(operation.GetProperty("responses").GetProperty(status).GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path} {status}");
        }
        foreach (var (path, method) in new[] { ("/api/account/register", "post"), ("/api/account/password/reset", "post"), ("/api/account/confirm-email", "get") })
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.False(operation.TryGetProperty("security", out _), $"{method} {path}");
            Assert.False(operation.GetProperty("responses").TryGetProperty("401", out _), $"{method} {path}");
            foreach (var status in new[] { "400", "413", "503" })
                Assert.True(operation.GetProperty("responses").GetProperty(status).GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path} {status}");
        }
    }
}
