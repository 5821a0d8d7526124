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
}
