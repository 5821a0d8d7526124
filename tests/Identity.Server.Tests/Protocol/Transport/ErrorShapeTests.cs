using System.Net;
using System.Net.Http.Headers;
using Identity.Server.Tests.Infrastructure;
using Identity.Server.Tests.Protocol.Token;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Protocol.Transport;

/// <summary>
/// SPEC §2: errors are <c>{"error","error_description"}</c> and Bearer challenges carry <c>error</c> and
/// <c>error_description</c>, whichever way OpenIddict reached the refusal (a request it rejected while validating, or a
/// refusal of ours); no <c>error_uri</c> pointing at OpenIddict's documentation.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ErrorShapeTests(ServerFixture server)
{
    private readonly TestData data = new(server);
    private readonly HttpClient http = server.CreateClient();

    public static TheoryData<string, string, string> Refusals => new()
    {
        // endpoint, form body, expected error
        { "/connect/token", "grant_type=unknown&client_id={public}", "unsupported_grant_type" },
        { "/connect/token", "grant_type=password&client_id={public}&username=nobody@example.test&password=wrong-password", "invalid_grant" },
        { "/connect/token", "grant_type=refresh_token&client_id={public}&refresh_token=not-a-token", "invalid_grant" },
        { "/connect/token", "grant_type=client_credentials&client_id=no-such-client&client_secret=whatever", "invalid_client" },
        { "/connect/revoke", "token=x&client_id=no-such-client", "invalid_client" },
        { "/connect/introspect", "token=x&client_id=no-such-client&client_secret=whatever", "invalid_client" },
        { "/connect/par", "client_id=no-such-client&response_type=code", "invalid_client" },
        { "/connect/device", "client_id=no-such-client", "invalid_client" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task AnError_HasExactlyErrorAndDescription(string endpoint, string form, string error)
    {
        var client = await data.ClientAsync(isPublic: true);
        var response = await http.PostAsync(endpoint, new StringContent(form.Replace("{public}", client.ClientId), null, "application/x-www-form-urlencoded"));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{response.StatusCode}");
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["error", "error_description"], body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(error, body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("na\u00efve", "na?ve")]
    [InlineData("a\"b\\", "a?b?")]
    public async Task AnErrorDescription_KeepsToTheCharactersRfc6749Allows(string echoed, string expected)
    {
        // RFC 6749 §5.2: error_description is printable ASCII without '"' and '\'; a description that repeats the request's
        // own text must not carry anything else (in a WWW-Authenticate header, Kestrel refused it and answered 500). The
        // net, on a description as the repeated-parameter refusal once wrote it for a parameter nobody defines.
        var transaction = new OpenIddict.Server.OpenIddictServerTransaction
        {
            Response = new OpenIddict.Abstractions.OpenIddictResponse { Error = "invalid_request", ErrorDescription = $"The '{echoed}' parameter is repeated." },
        };

        await new Identity.Server.Protocol.Transport.KeepErrorTextsInTheirCharacterSet<OpenIddict.Server.OpenIddictServerEvents.ProcessErrorContext>()
            .HandleAsync(new OpenIddict.Server.OpenIddictServerEvents.ProcessErrorContext(transaction));

        Assert.Equal($"The '{expected}' parameter is repeated.", transaction.Response.ErrorDescription);
        Assert.Matches(InTheSet, transaction.Response.ErrorDescription);
    }

    /// <summary>RFC 6749 §5.2's set for error_description: %x20-21 / %x23-5B / %x5D-7E.</summary>
    public const string InTheSet = @"^[\x20\x21\x23-\x5B\x5D-\x7E]+$";

    [Theory]
    [InlineData("/connect/userinfo")]
    [InlineData("/api/account/profile")]
    public async Task ABearerChallenge_HasErrorAndDescriptionOnly(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token") } };
        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Contains("error=\"invalid_token\"", challenge);
        Assert.Contains("error_description=", challenge);
        Assert.DoesNotContain("error_uri", challenge);
    }

    [Fact]
    public async Task AnErrorSentToTheClient_HasNoErrorUri()
    {
        var client = await data.ClientAsync(grants: ["authorization_code"], redirectUris: ["https://app.example.test/callback"]);
        var url = QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = "https://app.example.test/callback", ["scope"] = "openid",
            ["state"] = "s", ["prompt"] = "none", ["code_challenge"] = AuthorizationCodeGrantTests.Challenge(AuthorizationCodeGrantTests.NewVerifier()),
            ["code_challenge_method"] = "S256",
        });

        var response = await http.GetAsync(url);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = QueryHelpers.ParseQuery(response.Headers.Location!.Query);
        Assert.Equal("login_required", query["error"]);
        Assert.False(query.ContainsKey("error_uri"));
    }
}
