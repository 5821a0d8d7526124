using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Tests.Protocol;

[Collection(ServerCollection.Name)]
public sealed class UserInfoTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private static readonly DateTimeOffset ProfileCreatedAt = new(2021, 2, 3, 4, 5, 6, TimeSpan.Zero);
    private static readonly DateTimeOffset ProfileUpdatedAt = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    [Fact]
    public async Task ClaimsFollowTheGrantedScopes()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        await data.UsersAsync(async users =>
        {
            var stored = (await users.FindByIdAsync(user.Id))!;
            // Distinct from the creation time, so that updated_at shows it is read from the right column.
            (stored.CreatedAt, stored.UpdatedAt) = (ProfileCreatedAt, ProfileUpdatedAt);
            Assert.True((await users.UpdateAsync(stored)).Succeeded);
        });
        await data.GiveRoleAsync(user, "tester");

        var granted = await protocol.PasswordGrantAsync(client, user, "openid profile email roles");
        Assert.True(granted.Status == HttpStatusCode.OK, granted.Json.ToString());
        var all = (await protocol.UserInfoAsync(granted.AccessToken!)).Json;
        var openIdOnly = (await protocol.UserInfoAsync((await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!)).Json;

        Assert.Equal(user.Id, all.GetProperty("sub").GetString());
        Assert.Equal("Ada Lovelace", all.GetProperty("name").GetString());
        Assert.Equal("Ada", all.GetProperty("given_name").GetString());
        Assert.Equal("Lovelace", all.GetProperty("family_name").GetString());
        Assert.Equal(user.UserName, all.GetProperty("preferred_username").GetString());
        Assert.Equal(ProfileUpdatedAt.ToUnixTimeSeconds(), all.GetProperty("updated_at").GetInt64());
        Assert.Equal(user.Email, all.GetProperty("email").GetString());
        Assert.True(all.GetProperty("email_verified").GetBoolean());
        Assert.Equal(["tester"], all.GetProperty("role").EnumerateArray().Select(r => r.GetString()));
        // The ID token says it in the same shape: an array, even of one role, not a string.
        var idToken = JsonDocument.Parse(Base64UrlEncoder.Decode(granted.IdToken!.Split('.')[1])).RootElement;
        Assert.Equal(["tester"], idToken.GetProperty("role").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["sub"], openIdOnly.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task PostWithTheTokenInTheBody_Works()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;
        var response = await protocol.Http.PostAsync("/connect/userinfo", new FormUrlEncodedContent([new("access_token", token)]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PostWithTheTokenInTheHeaderAndNoBody_Works()
    {
        // OIDC Core §5.3.1: the token is a Bearer header; a POST then has nothing to send in a body (oauth4webapi sends none).
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/userinfo") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

        var response = await protocol.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(request.Content);
    }

    [Theory]
    [InlineData("Bearer  ")]
    [InlineData("bearer   ")]
    public async Task MoreThanOneSpaceAfterBearer_IsTheSameToken(string prefix)
    {
        // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;
        var authorization = prefix + token;

        // Built here, not sent through HttpClient, which tidies "Bearer  x" into "Bearer x" on its way.
        var context = await server.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Get;
            c.Request.Scheme = "https";
            c.Request.Host = new HostString("localhost");
            c.Request.Path = "/connect/userinfo";
            c.Request.Headers.Authorization = authorization;
        });

        Assert.True(context.Response.StatusCode == StatusCodes.Status200OK, $"{context.Response.StatusCode} {context.Response.Headers.WWWAuthenticate}");
    }

    [Fact]
    public async Task PostWithABodyThatIsNotAForm_IsInvalidRequest()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/userinfo")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
            Content = new ByteArrayContent("access_token=x"u8.ToArray()),
        };

        var response = await protocol.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // a repeated parameter read as absent, and the header's token answered 200
    public async Task TokenInHeaderAndBody_IsInvalidRequest(int inBody)
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/userinfo")
        {
            Content = new FormUrlEncodedContent(Enumerable.Repeat(new KeyValuePair<string, string>("access_token", token), inBody)),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await protocol.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task TokenInTheUrl_IsInvalidRequest_AndReadsNothing(string method)
    {
        // RFC 6750 §2.3 SHOULD NOT, RFC 9700 §4.3.2: a URL with a token ends up in logs. A GET got the person's claims.
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;

        var response = await protocol.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/connect/userinfo?access_token=" + token));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("error=\"invalid_request\"", response.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain(user.Id, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WithoutOpenIdScope_Is403InsufficientScope()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var result = await protocol.UserInfoAsync((await protocol.PasswordGrantAsync(client, user, "profile")).AccessToken!);
        Assert.Equal(HttpStatusCode.Forbidden, result.Status);
        var challenge = result.Response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer", challenge);
        Assert.Contains("error=\"insufficient_scope\"", challenge);
    }

    [Fact]
    public async Task NoToken_Is401WithABareChallenge()
    {
        var response = await protocol.Http.GetAsync("/connect/userinfo");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer", challenge);
        Assert.DoesNotContain("error=", challenge);
    }

    [Fact]
    public async Task MalformedToken_Is401InvalidToken()
    {
        var result = await protocol.UserInfoAsync("not.a.jwt");
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Contains("error=\"invalid_token\"", result.Response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ExpiredToken_Is401InvalidToken()
    {
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var hostData = new TestData(host);
        var hostProtocol = new ProtocolClient(host.HttpsClient());
        var (client, user) = (await hostData.ClientAsync(), await hostData.UserAsync());
        var token = (await hostProtocol.PasswordGrantAsync(client, user, "openid")).AccessToken!;

        time.Advance(TimeSpan.FromMinutes(16));
        var result = await hostProtocol.UserInfoAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Contains("error=\"invalid_token\"", result.Response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ReferenceToken_Works()
    {
        var (client, user) = (await data.ClientAsync(format: "reference"), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid email")).AccessToken!;
        var result = await protocol.UserInfoAsync(token);
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal(user.Email, result.Json.GetProperty("email").GetString());
    }

    [Fact]
    public async Task ClientCredentialsToken_IsNotAPerson()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"], scopes: [TestData.ApiScope]);
        var token = (await protocol.ClientCredentialsAsync(client)).AccessToken!;
        Assert.Equal(HttpStatusCode.Forbidden, (await protocol.UserInfoAsync(token)).Status);
    }

    [Fact]
    public async Task ClaimsAreThePersonsAsTheyAreNow_NotAsTheyWereWhenTheTokenWasIssued()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid profile email")).AccessToken!;
        Assert.Equal("Ada", (await protocol.UserInfoAsync(token)).Json.GetProperty("given_name").GetString());
        await data.UsersAsync(async users =>
        {
            var stored = (await users.FindByIdAsync(user.Id))!;
            stored.FirstName = "Augusta";
            Assert.True((await users.UpdateAsync(stored)).Succeeded);
            Assert.True((await users.SetEmailAsync(stored, $"augusta.{user.Email}")).Succeeded);
        });

        var now = (await protocol.UserInfoAsync(token)).Json;

        Assert.Equal("Augusta", now.GetProperty("given_name").GetString());
        Assert.Equal("Augusta Lovelace", now.GetProperty("name").GetString());
        Assert.Equal($"augusta.{user.Email}", now.GetProperty("email").GetString());
        Assert.False(now.GetProperty("email_verified").GetBoolean());
    }

    [Fact]
    public async Task DeletedUser_Is401InvalidToken()
    {
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var token = (await protocol.PasswordGrantAsync(client, user, "openid profile")).AccessToken!;
        await data.DeleteUserAsync(user);

        var result = await protocol.UserInfoAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Contains("error=\"invalid_token\"", result.Response.Headers.WwwAuthenticate.ToString());
    }
}
