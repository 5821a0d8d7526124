using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol.Token;

/// <summary>
/// client_secret_basic (RFC 6749 §2.3.1) at every endpoint that authenticates clients: a Basic header that cannot be
/// read is a failed client authentication (401 invalid_client with a Basic challenge, SPEC §2, RFC 6749 §5.2), and a
/// body naming another client than the header is refused, not silently overridden.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BasicCredentialsTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    public static TheoryData<string, string> Malformed => new()
    {
        // endpoint, Basic parameter
        { "/connect/token", "!!!not-base64" },
        { "/connect/token", Convert.ToBase64String("no-colon"u8.ToArray()) },
        { "/connect/token", Convert.ToBase64String(":secret-without-a-client"u8.ToArray()) },
        { "/connect/token", Convert.ToBase64String([0x63, 0xff, 0xfe, (byte)':', 0x73]) }, // not UTF-8
        { "/connect/introspect", "!!!not-base64" },
        { "/connect/revoke", "!!!not-base64" },
        { "/connect/par", "!!!not-base64" },
        { "/connect/device", "!!!not-base64" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task AnUnreadableBasicHeader_IsInvalidClient_WithABasicChallenge(string endpoint, string parameter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", parameter) },
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"), ("token", "x"), ("response_type", "code"))),
        };

        var result = await protocol.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
        Assert.Equal("Basic realm=\"Identity Server\"", result.Response.Headers.WwwAuthenticate.ToString().Split(',')[0]);
    }

    [Fact]
    public async Task AWrongSecret_IsChallengedWithARealm()
    {
        // RFC 7617 §2: "The 'realm' authentication parameter is required" in a Basic challenge.
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.ClientCredentialsAsync(client with { Secret = client.Secret + "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.StartsWith("Basic realm=\"Identity Server\", error=\"invalid_client\"", result.Response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ABodyNamingAnotherClient_IsRefused_AndIssuesNothing()
    {
        var (client, other) = (await data.ClientAsync(grants: ["client_credentials"]), await data.ClientAsync(grants: ["client_credentials"]));

        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "client_credentials"), ("client_id", other.ClientId)));

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
        Assert.Null(result.AccessToken);
        Assert.Empty(await data.TokensAsync(client.ClientId));
        Assert.Empty(await data.TokensAsync(other.ClientId));
    }

    public static TheoryData<string, string, bool> RepeatedBesideBasic => new()
    {
        // endpoint, repeated parameter, whether the header's client comes first
        { "/connect/token", "client_id", true },
        { "/connect/token", "client_id", false },
        { "/connect/token", "client_secret", true },
        { "/connect/par", "client_id", true },
        { "/connect/par", "client_id", false },
        { "/connect/introspect", "client_id", true },
        { "/connect/revoke", "client_id", true },
        { "/connect/device", "client_id", true },
    };

    [Theory]
    [MemberData(nameof(RepeatedBesideBasic))]
    public async Task ARepeatedCredentialParameter_BesideBasic_IsInvalidRequest_AndIssuesNothing(string endpoint, string name, bool headersFirst)
    {
        // SPEC §6, RFC 6749 §3.2. The header's credentials were written over the repeated body value, so the repeat went unseen.
        const string redirectUri = "https://app.example.test/callback";
        var client = await data.ClientAsync(grants: ["client_credentials", "authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
            redirectUris: [redirectUri], allowIntrospection: true);
        var other = await data.ClientAsync(grants: ["client_credentials"]);
        (string, string?) Own() => (name, name == "client_id" ? client.ClientId : client.Secret);
        (string, string?) Foreign() => (name, name == "client_id" ? other.ClientId : other.Secret);
        var form = ProtocolClient.Form(("grant_type", "client_credentials"), ("response_type", "code"), ("redirect_uri", redirectUri),
            ("scope", "openid"), ("code_challenge", CodeFlow.Challenge(CodeFlow.NewVerifier())), ("code_challenge_method", "S256"), ("token", "x"),
            headersFirst ? Own() : Foreign(), headersFirst ? Foreign() : Own());

        var result = await protocol.TokenAsync(client, form, endpoint);

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_request", result.Error);
        Assert.Equal($"The '{name}' parameter is repeated.", result.ErrorDescription);
        Assert.Null(result.AccessToken);
        Assert.Null(result.Field("request_uri"));
        Assert.Null(result.Field("device_code"));
        Assert.Empty(await data.TokensAsync(client.ClientId));
        Assert.Empty(await data.TokensAsync(other.ClientId));
    }

    [Fact]
    public async Task ABodyNamingTheSameClient_IsAccepted()
    {
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var result = await protocol.TokenAsync(client, ProtocolClient.Form(("grant_type", "client_credentials"), ("client_id", client.ClientId)));
        Assert.Equal(HttpStatusCode.OK, result.Status);
    }

    [Fact]
    public async Task FormEncodedCredentials_AreDecoded()
    {
        // §2.3.1: id and secret are form-encoded before they are joined; '+' is a space.
        var client = await data.ClientAsync(grants: ["client_credentials"]);
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.ClientId}:{client.Secret!.Replace("-", "%2D")}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", encoded) },
            Content = new FormUrlEncodedContent(ProtocolClient.Form(("grant_type", "client_credentials"))),
        };
        Assert.Equal(HttpStatusCode.OK, (await protocol.SendAsync(request)).Status);
    }
}
